package vinit_test

import (
	"math"
	"math/rand"
	"testing"

	vinit "github.com/velora-go/velora/init"
)

// The reference implementation's names (roymiles/VeLoRA, velora/velora.py)
// behave as they do there.

// TestReferenceUniformIsNormalisedRand: "uniform" (and "none") keep the
// vector the reference's constructor draws, normalize(torch.rand(M)): entries
// uniform in [0, 1), normalised, so none is negative.
func TestReferenceUniformIsNormalisedRand(t *testing.T) {
	for _, name := range []string{"uniform", "none", "uniform_7"} {
		s, err := vinit.Parse(name)
		if err != nil {
			t.Fatalf("Parse(%q): %v", name, err)
		}
		for _, m := range []int{1, 4, 64} {
			st := newState(t, s, m)
			for i, x := range st.V {
				if !(x >= 0) {
					t.Fatalf("%q (%v), m=%d: v[%d] = %v, want every entry ≥ 0", name, s, m, i, x)
				}
			}
			v := append([]float64(nil), st.V...)
			observe(t, s, st, vinit.Batch{F64: make([]float64, 2*m), Width: m, M: m})
			if !near(st.V, v, 0) || !s.Frozen(st) {
				t.Errorf("%q: v changed with a batch (%v, then %v) or is not frozen", name, v, st.V)
			}
		}
	}
}

// TestReferenceEMAMixesTheUnitVectorWithTheNewMean is the reference's
// ema_<decay>: the first batch sets v = normalize(mean₁); every later batch
// sets v = normalize(decay·v + (1−decay)·meanₙ), mixing the previous unit v
// (not a raw running mean) with the batch's raw mean.
func TestReferenceEMAMixesTheUnitVectorWithTheNewMean(t *testing.T) {
	first := vinit.Batch{F64: []float64{1, 0, 3, 0}, Width: 2, M: 2}    // mean (2, 0)
	second := vinit.Batch{F64: []float64{0, -1, 0, -5}, Width: 4, M: 2} // mean (0, -3)
	s, err := vinit.Parse("ema_0.5")
	if err != nil {
		t.Fatal(err)
	}
	st := newState(t, s, 2)
	observe(t, s, st, first)
	if !near(st.V, []float64{1, 0}, 0) {
		t.Fatalf("ema_0.5: v after (2, 0) = %v, want [1 0]", st.V)
	}
	observe(t, s, st, second)
	// 0.5·(1, 0) + 0.5·(0, −3) = (0.5, −1.5), normalised (1, −3)/√10.
	want := []float64{1 / math.Sqrt(10), -3 / math.Sqrt(10)}
	if !near(st.V, want, 1e-15) {
		t.Errorf("ema_0.5: v after (2, 0) then (0, −3) = %v, want %v ≈ (0.316, −0.949)", st.V, want)
	}
	if s.Frozen(st) || st.Batches != 2 {
		t.Errorf("ema_0.5: Frozen = %t, Batches = %d, want false, 2", s.Frozen(st), st.Batches)
	}
}

// TestRunningMeanKeepsTheRawMean: this package's own running mean on the same
// two batches mixes the raw means, (1, −1.5) normalised ≈ (0.555, −0.832).
func TestRunningMeanKeepsTheRawMean(t *testing.T) {
	s, err := vinit.Parse("running_mean_0.5")
	if err != nil {
		t.Fatal(err)
	}
	st := newState(t, s, 2)
	observe(t, s, st, vinit.Batch{F64: []float64{1, 0, 3, 0}, Width: 2, M: 2})
	observe(t, s, st, vinit.Batch{F64: []float64{0, -1, 0, -5}, Width: 4, M: 2})
	if want := normalised([]float64{1, -1.5}); !near(st.V, want, 1e-15) {
		t.Errorf("running_mean_0.5: v = %v, want %v", st.V, want)
	}
}

// TestRandomIsANormalisedGaussian: "random" is this package's own random
// direction, uniform on the sphere, so it has negative entries too.
func TestRandomIsANormalisedGaussian(t *testing.T) {
	s, err := vinit.Parse("random_3")
	if err != nil {
		t.Fatal(err)
	}
	st := newState(t, s, 8)
	if want := normalised(randVec(rand.New(rand.NewSource(3)), 8)); !near(st.V, want, 1e-15) {
		t.Errorf("random_3: v = %v, want %v", st.V, want)
	}
}
