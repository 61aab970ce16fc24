package vinit_test

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	vinit "github.com/velora-go/velora/init"
)

var meanStrategies = []vinit.Strategy{vinit.FirstBatchMean(), vinit.BatchMean(), vinit.RunningMean(0.9), vinit.EMA(0.9)}

// aroundMean returns 2*pairs sub-tokens w+e and w-e (e random), one per row, whose mean
// is w up to rounding.
func aroundMean(rnd *rand.Rand, w []float64, pairs int) []float64 {
	var data []float64
	for range pairs {
		e := randVec(rnd, len(w))
		for _, sign := range []float64{1, -1} {
			for j := range w {
				data = append(data, w[j]+sign*e[j])
			}
		}
	}
	return data
}

func TestMeanDirection(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	for _, m := range []int{1, 3, 16} {
		w := randVec(rnd, m)
		data := aroundMean(rnd, w, 50)
		for _, s := range meanStrategies {
			st := newState(t, s, m)
			if st.V != nil {
				t.Errorf("%v: Init set V = %v, want nil until the first batch", s, st.V)
			}
			observe(t, s, st, vinit.Batch{F64: data, Width: m, M: m})
			// 1e-12: the mean of 100 terms of size ~1 carries rounding of order 1e-15.
			if want := normalised(w); !near(st.V, want, 1e-12) {
				t.Errorf("%v, m=%d: V = %v, want %v", s, m, st.V, want)
			}
			if st.Batches != 1 {
				t.Errorf("%v: Batches = %d, want 1", s, st.Batches)
			}
		}
	}
}

func TestMeanPadding(t *testing.T) {
	// Rows of width 5 with M = 2 give sub-tokens (a,b), (c,d), (e,0); the mean over all
	// T*3 of them, padding included, written out by hand.
	data := []float64{
		1, 2, 3, 4, 5,
		6, 7, 8, 9, 10,
	}
	mean := []float64{
		(1 + 3 + 5 + 6 + 8 + 10) / 6.0,
		(2 + 4 + 0 + 7 + 9 + 0) / 6.0,
	}
	b := vinit.Batch{F64: data, Width: 5, M: 2}
	for _, s := range meanStrategies {
		st := newState(t, s, 2)
		observe(t, s, st, b)
		if want := normalised(mean); !near(st.V, want, 1e-15) {
			t.Errorf("%v: V = %v, want %v", s, st.V, want)
		}
	}
	// RunningMean keeps the unnormalised mean, so it pins the divisor T*ceil(D/M).
	s := vinit.RunningMean(0.5)
	st := newState(t, s, 2)
	observe(t, s, st, b)
	if !near(st.Running, mean, 1e-14) {
		t.Errorf("running mean = %v, want %v", st.Running, mean)
	}
}

func TestFirstBatchMeanFrozenBatchMeanFollows(t *testing.T) {
	first := vinit.Batch{F64: []float64{1, 0, 3, 0}, Width: 2, M: 2}    // mean (2, 0)
	second := vinit.Batch{F64: []float64{0, -1, 0, -5}, Width: 4, M: 2} // mean (0, -3)
	for _, test := range []struct {
		s            vinit.Strategy
		frozenBefore bool
		frozenAfter  bool
		wantAfter2   []float64
	}{
		{vinit.FirstBatchMean(), false, true, []float64{1, 0}},
		{vinit.BatchMean(), false, false, []float64{0, -1}},
	} {
		st := newState(t, test.s, 2)
		if got := test.s.Frozen(st); got != test.frozenBefore {
			t.Errorf("%v: Frozen before any batch = %t, want %t", test.s, got, test.frozenBefore)
		}
		observe(t, test.s, st, first)
		if !near(st.V, []float64{1, 0}, 0) {
			t.Errorf("%v: V after batch 1 = %v, want [1 0]", test.s, st.V)
		}
		if got := test.s.Frozen(st); got != test.frozenAfter {
			t.Errorf("%v: Frozen after batch 1 = %t, want %t", test.s, got, test.frozenAfter)
		}
		observe(t, test.s, st, second)
		if !near(st.V, test.wantAfter2, 0) {
			t.Errorf("%v: V after batch 2 = %v, want %v", test.s, st.V, test.wantAfter2)
		}
		if st.Batches != 2 {
			t.Errorf("%v: Batches = %d, want 2", test.s, st.Batches)
		}
	}
}

func TestRunningMeanTwoBatches(t *testing.T) {
	first := vinit.Batch{F64: []float64{1, 2, 3, 4}, Width: 2, M: 2}   // mean (2, 3)
	second := vinit.Batch{F32: []float32{-4, 0, 0, 8}, Width: 2, M: 2} // mean (-2, 4)
	for _, decay := range []float64{0, 0.25, 0.9, 0.999} {
		s := vinit.RunningMean(decay)
		st := newState(t, s, 2)
		observe(t, s, st, first)
		if !near(st.Running, []float64{2, 3}, 1e-15) {
			t.Errorf("decay %v: Running after batch 1 = %v, want the first mean [2 3]", decay, st.Running)
		}
		observe(t, s, st, second)
		want := []float64{decay*2 + (1-decay)*-2, decay*3 + (1-decay)*4}
		if !near(st.Running, want, 1e-14) {
			t.Errorf("decay %v: Running = %v, want %v", decay, st.Running, want)
		}
		if !near(st.V, normalised(want), 1e-14) {
			t.Errorf("decay %v: V = %v, want %v", decay, st.V, normalised(want))
		}
		if s.Frozen(st) || st.Batches != 2 {
			t.Errorf("decay %v: Frozen = %t, Batches = %d, want false, 2", decay, s.Frozen(st), st.Batches)
		}
	}
}

func TestDecayOutsideZeroOne(t *testing.T) {
	for _, decay := range []float64{-0.1, 1, 1.5, math.NaN(), math.Inf(1)} {
		for _, s := range []vinit.Strategy{vinit.RunningMean(decay), vinit.EMA(decay)} {
			var st vinit.State
			wantErr(t, s.Init(&st, 4), fmt.Sprint(decay), "[0, 1)")
			sameState(t, st, vinit.State{})
		}
	}
}

func TestInitBadSize(t *testing.T) {
	for _, m := range []int{0, -1, -64} {
		for _, s := range allStrategies {
			var st vinit.State
			wantErr(t, s.Init(&st, m), fmt.Sprintf("sub-token size %d", m))
			sameState(t, st, vinit.State{})
		}
	}
}

func TestZeroStatisticGivesAllOnes(t *testing.T) {
	const m = 4
	zero := vinit.Batch{F64: make([]float64, 3*m), Width: m, M: m}
	zero32 := vinit.Batch{F32: make([]float32, 2*m+1), Width: 2*m + 1, M: m}
	// Nonzero sub-tokens with a zero mean: x and -x.
	cancel := vinit.Batch{F64: []float64{1, -2, 3, 0.5, -1, 2, -3, -0.5}, Width: m, M: m}
	for _, test := range []struct {
		b          vinit.Batch
		strategies []vinit.Strategy
	}{
		{zero, dataStrategies},
		{zero32, dataStrategies},
		{cancel, meanStrategies},
	} {
		for _, s := range test.strategies {
			st := newState(t, s, m)
			observe(t, s, st, test.b)
			if !near(st.V, allOnes(m), 1e-15) {
				t.Errorf("%v on %v: V = %v, want the all-ones direction %v", s, test.b, st.V, allOnes(m))
			}
		}
	}
}

func TestFloat32MatchesFloat64(t *testing.T) {
	rnd := rand.New(rand.NewSource(2))
	for _, shape := range []struct{ rows, width, m int }{{7, 8, 4}, {5, 11, 4}, {3, 3, 8}} {
		f32 := make([]float32, shape.rows*shape.width)
		f64 := make([]float64, len(f32))
		for i := range f32 {
			f32[i] = float32(rnd.NormFloat64() + 0.5)
			f64[i] = float64(f32[i]) // the same values, exactly
		}
		for _, s := range allStrategies {
			st64, st32 := newState(t, s, shape.m), newState(t, s, shape.m)
			observe(t, s, st64, vinit.Batch{F64: f64, Width: shape.width, M: shape.m})
			observe(t, s, st32, vinit.Batch{F32: f32, Width: shape.width, M: shape.m})
			if !near(st32.V, st64.V, 0) {
				t.Errorf("%v, shape %+v: float32 V = %v, float64 V = %v", s, shape, st32.V, st64.V)
			}
		}
	}
}

func TestObserveRestoredState(t *testing.T) {
	// A state restored by the caller (V set directly, no Init) takes its size from V.
	restored := func() *vinit.State { return &vinit.State{V: []float64{0, 1}, Batches: 5} }
	b := vinit.Batch{F64: []float64{3, 4}, Width: 2, M: 2}

	st := restored()
	observe(t, vinit.FirstBatchMean(), st, b)
	if !near(st.V, []float64{0, 1}, 0) || st.Batches != 6 {
		t.Errorf("FirstBatchMean on a restored state: V = %v, Batches = %d, want [0 1], 6", st.V, st.Batches)
	}
	st = restored()
	observe(t, vinit.BatchMean(), st, b)
	if !near(st.V, []float64{0.6, 0.8}, 1e-15) {
		t.Errorf("BatchMean on a restored state: V = %v, want [0.6 0.8]", st.V)
	}
	st = restored()
	wantErr(t, vinit.BatchMean().Observe(st, vinit.Batch{F64: []float64{1, 2, 3}, Width: 3, M: 3}), "sub-token size 3", "projection's 2")

	st = restored()
	st.Running = []float64{1, 2, 3}
	before := cloneState(*st)
	wantErr(t, vinit.RunningMean(0.5).Observe(st, b), "running mean has length 3")
	sameState(t, *st, before)

	st = restored()
	before = cloneState(*st)
	wantErr(t, vinit.RunningMean(2).Observe(st, b), "decay 2")
	sameState(t, *st, before)

	// EMA mixes the restored v with the batch: 0.5·(0, 1) + 0.5·(3, 4) = (1.5, 2.5).
	st = restored()
	observe(t, vinit.EMA(0.5), st, b)
	if want := normalised([]float64{1.5, 2.5}); !near(st.V, want, 1e-15) || st.Running != nil {
		t.Errorf("EMA on a restored state: V = %v, Running = %v, want %v, nil", st.V, st.Running, want)
	}
	st = &vinit.State{V: []float64{1, 0, 0}}
	before = cloneState(*st)
	wantErr(t, vinit.EMA(0.5).Observe(st, vinit.Batch{F64: []float64{1, 2}, Width: 2, M: 2}), "sub-token size 2", "projection's 3")
	sameState(t, *st, before)
}
