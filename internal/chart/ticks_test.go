package chart

import (
	"math"
	"testing"
)

func TestStepTicksAreWholeNumbers(t *testing.T) {
	for _, c := range []struct {
		min, max  float64
		wantFirst float64 // the first tick; NaN: no tick at all
	}{
		{1, 3, 1},     // a three-step run: DefaultTicks marks 1.5 and 2.5 here
		{0, 2, 0},     // a one-step run, as plot widens its range
		{1, 2, 1},     // two steps
		{0.5, 3.5, 1}, // a padded range
		{1, 7, 1},
		{1, 50, 10},
		{1, 1000, 200},
		{3, 123457, 20000},
		{1.2, 1.8, math.NaN()}, // no whole number inside
	} {
		ticks := StepTicks{}.Ticks(c.min, c.max)
		if math.IsNaN(c.wantFirst) {
			if len(ticks) != 0 {
				t.Errorf("[%v, %v]: ticks %v, want none", c.min, c.max, ticks)
			}
			continue
		}
		if len(ticks) == 0 || len(ticks) > maxStepTicks || ticks[0].Value != c.wantFirst {
			t.Errorf("[%v, %v]: ticks %v, want 1 to %d starting at %v", c.min, c.max, ticks, maxStepTicks, c.wantFirst)
			continue
		}
		for i, tick := range ticks {
			if tick.Value != math.Trunc(tick.Value) || tick.Value < c.min || tick.Value > c.max || tick.Label == "" {
				t.Errorf("[%v, %v]: tick %+v is not a labelled whole number in the range", c.min, c.max, tick)
			}
			if i > 0 && tick.Value-ticks[i-1].Value != ticks[1].Value-ticks[0].Value {
				t.Errorf("[%v, %v]: ticks %v are not evenly spaced", c.min, c.max, ticks)
			}
		}
	}
}
