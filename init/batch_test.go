package vinit_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	vinit "github.com/velora-go/velora/init"
)

func TestBatchSubToken(t *testing.T) {
	// Two rows of width 5, sub-token size 2: three sub-tokens per row, the last one
	// padded with a zero.
	data := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	want := [][]float64{{1, 2}, {3, 4}, {5, 0}, {6, 7}, {8, 9}, {10, 0}}
	data32 := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, test := range []struct {
		name string
		b    vinit.Batch
		want [][]float64
	}{
		{"f64 padded", vinit.Batch{F64: data, Width: 5, M: 2}, want},
		{"f32 padded", vinit.Batch{F32: data32, Width: 5, M: 2}, want},
		{"f64 exact", vinit.Batch{F64: data, Width: 5, M: 5}, [][]float64{{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}}},
		{"f64 M > Width", vinit.Batch{F64: data, Width: 5, M: 7}, [][]float64{{1, 2, 3, 4, 5, 0, 0}, {6, 7, 8, 9, 10, 0, 0}}},
		{"f64 one column", vinit.Batch{F64: data[:3], Width: 1, M: 2}, [][]float64{{1, 0}, {2, 0}, {3, 0}}},
	} {
		if got := test.b.Len(); got != len(test.want) {
			t.Errorf("%s: Len() = %d, want %d", test.name, got, len(test.want))
			continue
		}
		for i, w := range test.want {
			dst := make([]float64, test.b.M)
			for j := range dst {
				dst[j] = math.NaN() // padding must overwrite stale contents
			}
			test.b.SubToken(i, dst)
			if !slices.Equal(dst, w) {
				t.Errorf("%s: SubToken(%d) = %v, want %v", test.name, i, dst, w)
			}
		}
	}
	if !slices.Equal(data, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
		t.Errorf("SubToken modified its input: %v", data)
	}
}

func TestBatchLenInvalid(t *testing.T) {
	for _, b := range []vinit.Batch{
		{F64: []float64{1, 2}, Width: 0, M: 2},
		{F64: []float64{1, 2}, Width: 2, M: 0},
		{F64: []float64{1, 2}, Width: -1, M: -1},
	} {
		if got := b.Len(); got != 0 {
			t.Errorf("Len() of width %d, M %d = %d, want 0", b.Width, b.M, got)
		}
	}
}

func TestBatchSubTokenPanics(t *testing.T) {
	b := vinit.Batch{F64: []float64{1, 2, 3, 4}, Width: 4, M: 2}
	for _, test := range []struct {
		name string
		i    int
		dst  []float64
	}{
		{"index past end", 2, make([]float64, 2)},
		{"negative index", -1, make([]float64, 2)},
		{"short dst", 0, make([]float64, 1)},
		{"long dst", 0, make([]float64, 3)},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: SubToken did not panic", test.name)
				}
			}()
			b.SubToken(test.i, test.dst)
		}()
	}
}

func TestObserveBadBatch(t *testing.T) {
	const m = 2
	for _, test := range []struct {
		name string
		b    vinit.Batch
		want []string
	}{
		{"zero M", vinit.Batch{F64: []float64{1, 2}, Width: 2, M: 0}, []string{"sub-token size 0"}},
		{"negative M", vinit.Batch{F64: []float64{1, 2}, Width: 2, M: -3}, []string{"sub-token size -3"}},
		{"M mismatch", vinit.Batch{F64: []float64{1, 2, 3}, Width: 3, M: 3}, []string{"sub-token size 3", "projection's 2"}},
		{"zero width", vinit.Batch{F64: []float64{1, 2}, Width: 0, M: m}, []string{"width 0"}},
		{"both set", vinit.Batch{F64: []float64{1, 2}, F32: []float32{1, 2, 3, 4}, Width: 2, M: m}, []string{"F64 (length 2)", "F32 (length 4)"}},
		{"none set", vinit.Batch{Width: 2, M: m}, []string{"empty"}},
		{"ragged f64", vinit.Batch{F64: []float64{1, 2, 3, 4, 5}, Width: 2, M: m}, []string{"length 5", "width 2"}},
		{"ragged f32", vinit.Batch{F32: []float32{1, 2, 3}, Width: 4, M: m}, []string{"length 3", "width 4"}},
	} {
		for _, s := range allStrategies {
			t.Run(fmt.Sprintf("%s/%v", test.name, s), func(t *testing.T) {
				st := newState(t, s, m)
				before := cloneState(*st)
				wantErr(t, s.Observe(st, test.b), test.want...)
				sameState(t, *st, before)
			})
		}
	}
}

func TestObserveBeforeInit(t *testing.T) {
	for _, s := range allStrategies {
		var st vinit.State
		wantErr(t, s.Observe(&st, vinit.Batch{F64: []float64{1, 2}, Width: 2, M: 2}), "Init")
		sameState(t, st, vinit.State{})
	}
}

func TestObserveNonFinite(t *testing.T) {
	// Two rows of width 5 and M = 2: value index 8 is row 1, column 3, which is
	// sub-token 1*3 + 3/2 = 4, element 3%2 = 1.
	const m, width, bad = 2, 5, 8
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, f32 := range []bool{false, true} {
			for _, s := range dataStrategies {
				t.Run(fmt.Sprintf("%v/f32=%t/%v", x, f32, s), func(t *testing.T) {
					st := newState(t, s, m)
					if s != vinit.SVD() && s != vinit.FirstBatchMean() {
						// Give the state something to lose.
						observe(t, s, st, vinit.Batch{F64: []float64{1, 2, 3, 4, 5}, Width: width, M: m})
					}
					data := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
					data[bad] = x
					b := vinit.Batch{F64: data, Width: width, M: m}
					if f32 {
						b = vinit.Batch{F32: make([]float32, len(data)), Width: width, M: m}
						for i, d := range data {
							b.F32[i] = float32(d)
						}
					}
					before := cloneState(*st)
					wantErr(t, s.Observe(st, b), fmt.Sprint(x), "sub-token 4 element 1", "row 1, column 3")
					sameState(t, *st, before)
				})
			}
		}
	}
}
