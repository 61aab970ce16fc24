package vinit_test

import (
	"math"
	"math/rand"
	"testing"

	vinit "github.com/velora-go/velora/init"
)

// rankOne returns the rows u[i]*w, one sub-token per row.
func rankOne(u, w []float64) []float64 {
	var data []float64
	for _, ui := range u {
		for _, wj := range w {
			data = append(data, ui*wj)
		}
	}
	return data
}

func TestSVDRankOne(t *testing.T) {
	rnd := rand.New(rand.NewSource(3))
	for _, test := range []struct {
		n, m int
	}{
		{1, 4},
		{10, 3},
		{100, 16},
		{5000, 8}, // more than 2048 sub-tokens: subsampled
	} {
		w := randVec(rnd, test.m)
		u := randVec(rnd, test.n)
		s := vinit.SVD()
		st := newState(t, s, test.m)
		observe(t, s, st, vinit.Batch{F64: rankOne(u, w), Width: test.m, M: test.m})
		// Sign convention: v agrees with the sum of the sub-tokens, (Σu)·w.
		var sum float64
		for _, ui := range u {
			sum += ui
		}
		want := normalised(w)
		if sum < 0 {
			for j := range want {
				want[j] = -want[j]
			}
		}
		// 1e-12: a rank-1 matrix's SVD is accurate to a few ulps of its norm.
		if !near(st.V, want, 1e-12) {
			t.Errorf("n=%d, m=%d: V = %v, want %v", test.n, test.m, st.V, want)
		}
	}
}

func TestSVDSign(t *testing.T) {
	for _, test := range []struct {
		name string
		data []float64
		want []float64
	}{
		// Rows w and 3w with w = (0.6, -0.8): the sum is 4w, so v = +w.
		{"agrees with the sum", []float64{0.6, -0.8, 1.8, -2.4}, []float64{0.6, -0.8}},
		// Rows -w and -3w: the sum is -4w, so v = -w.
		{"agrees with a negative sum", []float64{-0.6, 0.8, -1.8, 2.4}, []float64{-0.6, 0.8}},
		// Rows w and -w sum to zero: the largest entry, -0.8, is made positive.
		{"zero sum", []float64{0.6, -0.8, -0.6, 0.8}, []float64{-0.6, 0.8}},
		// Rows 3e1, -3e1 and e2: the top direction is e1 (σ² 18 against 1); the sum e2 is
		// orthogonal to it, so the largest entry decides: +e1.
		{"orthogonal sum", []float64{3, 0, -3, 0, 0, 1}, []float64{1, 0}},
	} {
		s := vinit.SVD()
		st := newState(t, s, 2)
		observe(t, s, st, vinit.Batch{F64: test.data, Width: 2, M: 2})
		if !near(st.V, test.want, 1e-12) {
			t.Errorf("%s: V = %v, want %v", test.name, st.V, test.want)
		}
	}
}

func TestSVDSamplesEvenlyStrided(t *testing.T) {
	// 4096 sub-tokens: the documented sample i*4096/2048 = 2i takes the even ones only.
	// Even sub-tokens lie on w, odd ones on a much larger orthogonal direction that
	// would win if they were sampled.
	w := []float64{0.6, 0.8, 0}
	big := []float64{0, 0, 100}
	var data []float64
	for i := range 4096 {
		if i%2 == 0 {
			data = append(data, w...)
		} else {
			data = append(data, big...)
		}
	}
	s := vinit.SVD()
	st := newState(t, s, 3)
	observe(t, s, st, vinit.Batch{F64: data, Width: 3, M: 3})
	if !near(st.V, w, 1e-12) {
		t.Errorf("V = %v, want %v from the even sub-tokens", st.V, w)
	}
}

func TestSVDFrozen(t *testing.T) {
	s := vinit.SVD()
	st := newState(t, s, 2)
	if s.Frozen(st) {
		t.Errorf("Frozen before any batch, want false")
	}
	observe(t, s, st, vinit.Batch{F64: []float64{1, 0, 2, 0}, Width: 2, M: 2})
	if !s.Frozen(st) {
		t.Errorf("not Frozen after batch 1")
	}
	// The second batch is not read, so even a NaN is accepted.
	observe(t, s, st, vinit.Batch{F64: []float64{0, 5, math.NaN(), 1}, Width: 2, M: 2})
	if !near(st.V, []float64{1, 0}, 1e-15) || st.Batches != 2 {
		t.Errorf("after batch 2: V = %v, Batches = %d, want [1 0], 2", st.V, st.Batches)
	}
}
