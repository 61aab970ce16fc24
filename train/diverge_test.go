package train

import (
	"math"
	"testing"
)

// TestDivergenceRule pins the rule: a loss diverges when it is NaN or
// infinite, or above 10× the mean of the first 5 steps' losses (of those
// there are, before the sixth).
func TestDivergenceRule(t *testing.T) {
	for _, test := range []struct {
		losses []float64
		loss   float64
		want   bool
	}{
		{nil, 1e9, false}, // the first step has no start to compare with
		{nil, math.NaN(), true},
		{nil, math.Inf(1), true},
		{[]float64{5, 6}, 54.9, false}, // start 5.5
		{[]float64{5, 6}, 55.1, true},
		{[]float64{5, 5, 5, 5, 5, 40}, 49, false}, // start 5: only the first five count
		{[]float64{5, 5, 5, 5, 5, 40}, 51, true},
		{[]float64{5, 5, 5, 5, 5}, math.Inf(-1), true},
	} {
		if got := Diverged(test.losses, test.loss); (got != "") != test.want {
			t.Errorf("losses %v then %v: %q, want diverged %v", test.losses, test.loss, got, test.want)
		}
	}
}
