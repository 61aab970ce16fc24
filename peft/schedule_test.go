package peft

import (
	"math"
	"testing"
)

// TestCosineScheduleFollowsTheFormula checks every step of a short run against the
// schedule written out, and landmarks by hand: 0 at step 0, peak at the end of the
// warm-up, halfway between peak and the floor halfway through the cosine, the floor at
// and after the last step.
func TestCosineScheduleFollowsTheFormula(t *testing.T) {
	const peak, minRatio = 0.01, 0.1
	for _, c := range []struct{ warmup, total int }{{10, 110}, {0, 50}, {1000, 10000}} {
		for step := 0; step <= c.total+5; step++ {
			var want float64
			switch {
			case step < c.warmup:
				want = peak * float64(step) / float64(c.warmup)
			case step >= c.total:
				want = peak * minRatio
			default:
				p := float64(step-c.warmup) / float64(c.total-c.warmup)
				want = peak * (minRatio + (1-minRatio)*0.5*(1+math.Cos(math.Pi*p)))
			}
			if got := CosineSchedule(step, c.warmup, c.total, peak, minRatio); math.Abs(got-want) > 1e-15 {
				t.Fatalf("warmup %d, total %d, step %d: %v, want %v", c.warmup, c.total, step, got, want)
			}
		}
	}
	for _, c := range []struct {
		step int
		want float64
	}{
		{0, 0},
		{500, 0.005},
		{1000, 0.01},
		{5500, 0.0055}, // halfway through the cosine: (0.01 + 0.001)/2
		{10000, 0.001},
		{20000, 0.001},
	} {
		if got := CosineSchedule(c.step, 1000, 10000, peak, minRatio); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("60M recipe, step %d: %v, want %v", c.step, got, c.want)
		}
	}
}

func TestCosineSchedulePanicsOnBadArguments(t *testing.T) {
	for _, c := range []struct {
		step, warmup, total int
		minRatio            float64
	}{
		{-1, 10, 100, 0.1},
		{0, -1, 100, 0.1},
		{0, 100, 100, 0.1},
		{0, 10, 0, 0.1},
		{0, 10, 100, 1.5},
		{0, 10, 100, math.NaN()},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: no panic", c)
				}
			}()
			CosineSchedule(c.step, c.warmup, c.total, 1, c.minRatio)
		}()
	}
}
