package vinit_test

import (
	"math"
	"math/rand"
	"testing"

	vinit "github.com/velora-go/velora/init"
)

func TestRandom(t *testing.T) {
	for _, m := range []int{1, 2, 8, 64} {
		for _, seed := range []int64{0, 1, 42, -7} {
			s := vinit.Random(seed)
			st := newState(t, s, m)
			// The documented recipe: m draws of rand.NormFloat64 from the seed, normalised.
			rnd := rand.New(rand.NewSource(seed))
			want := normalised(randVec(rnd, m))
			if !near(st.V, want, 1e-15) {
				t.Errorf("Random(%d), m=%d: V = %v, want %v", seed, m, st.V, want)
			}
			var norm float64
			for _, x := range st.V {
				norm += x * x
			}
			if math.Abs(norm-1) > 1e-14 {
				t.Errorf("Random(%d), m=%d: |V|² = %v, want 1", seed, m, norm)
			}
			again := newState(t, s, m)
			if !near(again.V, st.V, 0) {
				t.Errorf("Random(%d), m=%d: not reproducible: %v then %v", seed, m, st.V, again.V)
			}
			other := newState(t, vinit.Random(seed+1), m)
			if m > 1 && near(other.V, st.V, 1e-6) {
				t.Errorf("Random(%d) and Random(%d), m=%d: same V %v", seed, seed+1, m, st.V)
			}
			v := append([]float64(nil), st.V...)
			observe(t, s, st, vinit.Batch{F64: make([]float64, 3*m), Width: m, M: m})
			observe(t, s, st, vinit.Batch{F32: []float32{float32(math.NaN())}, Width: 1, M: m})
			if !near(st.V, v, 0) || st.Batches != 2 || !s.Frozen(st) {
				t.Errorf("Random(%d): after two batches V = %v (was %v), Batches = %d, Frozen = %t; want V unchanged, 2, true",
					seed, st.V, v, st.Batches, s.Frozen(st))
			}
		}
	}
}

func TestUniform(t *testing.T) {
	for _, m := range []int{1, 2, 8, 64} {
		for _, seed := range []int64{0, 1, -7} {
			s := vinit.Uniform(seed)
			st := newState(t, s, m)
			// The documented recipe: m draws of rand.Float64 from the seed, normalised.
			rnd := rand.New(rand.NewSource(seed))
			u := make([]float64, m)
			for i := range u {
				u[i] = rnd.Float64()
			}
			if want := normalised(u); !near(st.V, want, 1e-15) {
				t.Errorf("Uniform(%d), m=%d: V = %v, want %v", seed, m, st.V, want)
			}
			if again := newState(t, s, m); !near(again.V, st.V, 0) {
				t.Errorf("Uniform(%d), m=%d: not reproducible: %v then %v", seed, m, st.V, again.V)
			}
			if other := newState(t, vinit.Uniform(seed+1), m); m > 1 && near(other.V, st.V, 1e-6) {
				t.Errorf("Uniform(%d) and Uniform(%d), m=%d: same V %v", seed, seed+1, m, st.V)
			}
		}
	}
}
