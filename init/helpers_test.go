package vinit_test

import (
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	vinit "github.com/velora-go/velora/init"
)

// dataStrategies are the strategies that read batch values.
var dataStrategies = []vinit.Strategy{vinit.SVD(), vinit.FirstBatchMean(), vinit.BatchMean(), vinit.RunningMean(0.9), vinit.EMA(0.9)}

// allStrategies adds Random and Uniform to dataStrategies.
var allStrategies = append([]vinit.Strategy{vinit.Random(1), vinit.Uniform(1)}, dataStrategies...)

// newState returns a state initialised by s for sub-token size m.
func newState(t *testing.T, s vinit.Strategy, m int) *vinit.State {
	t.Helper()
	var st vinit.State
	if err := s.Init(&st, m); err != nil {
		t.Fatalf("%v: Init(m=%d): %v", s, m, err)
	}
	return &st
}

// observe feeds b to s and fails the test on error.
func observe(t *testing.T, s vinit.Strategy, st *vinit.State, b vinit.Batch) {
	t.Helper()
	if err := s.Observe(st, b); err != nil {
		t.Fatalf("%v: Observe: %v", s, err)
	}
}

// normalised is x/sqrt(Σx²), written independently of the package.
func normalised(x []float64) []float64 {
	var ss float64
	for _, xi := range x {
		ss += xi * xi
	}
	v := make([]float64, len(x))
	for i, xi := range x {
		v[i] = xi / math.Sqrt(ss)
	}
	return v
}

// allOnes is the fallback direction 1/sqrt(m) in every element.
func allOnes(m int) []float64 {
	v := make([]float64, m)
	for i := range v {
		v[i] = 1 / math.Sqrt(float64(m))
	}
	return v
}

// near reports whether a and b have the same length and differ by at most tol everywhere.
func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !(math.Abs(a[i]-b[i]) <= tol) {
			return false
		}
	}
	return true
}

// randVec returns n standard normal draws.
func randVec(rnd *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	return x
}

// cloneState returns a deep copy of st, to check later that a failed call left it unchanged.
func cloneState(st vinit.State) vinit.State {
	c := st
	if st.V != nil {
		c.V = append([]float64(nil), st.V...)
	}
	if st.Running != nil {
		c.Running = append([]float64(nil), st.Running...)
	}
	return c
}

// wantErr fails unless err is non-nil and its message contains every fragment.
func wantErr(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
	if !strings.HasPrefix(err.Error(), "vinit: ") {
		t.Errorf("error %q lacks the vinit: prefix", err)
	}
}

// sameState fails unless got equals want field by field.
func sameState(t *testing.T, got, want vinit.State) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("state changed: got %+v, want %+v", got, want)
	}
}
