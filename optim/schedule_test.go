package optim

import (
	"math"
	"strings"
	"testing"
)

// TestCosineFollowsTheFormula checks every step of a short run against the
// schedule written out, and landmarks by hand: 0 at step 0, peak at the end of the
// warm-up, halfway between peak and the floor halfway through the cosine, the floor at
// and after the last step.
func TestCosineFollowsTheFormula(t *testing.T) {
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
			if got := mustCosine(t, c.warmup, c.total, peak, minRatio).At(step); math.Abs(got-want) > 1e-15 {
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
		if got := mustCosine(t, 1000, 10000, peak, minRatio).At(c.step); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("60M recipe, step %d: %v, want %v", c.step, got, c.want)
		}
	}
}

func mustCosine(t *testing.T, warmup, total int, peak, minRatio float64) Cosine {
	t.Helper()
	c, err := NewCosine(warmup, total, peak, minRatio)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCosineRefusesBadSettings wants an error, never a panic, naming the setting.
func TestCosineRefusesBadSettings(t *testing.T) {
	for _, c := range []struct {
		warmup, total  int
		peak, minRatio float64
		want           string
	}{
		{-1, 100, 1, 0.1, "warm-up -1"},
		{100, 100, 1, 0.1, "warm-up 100 and 100 steps"},
		{10, 0, 1, 0.1, "warm-up 10 and 0 steps"},
		{10, 100, math.Inf(1), 0.1, "peak is +Inf"},
		{10, 100, -1, 0.1, "peak is -1"},
		{10, 100, 1, 1.5, "min ratio is 1.5"},
		{10, 100, 1, math.NaN(), "min ratio is NaN"},
	} {
		_, err := NewCosine(c.warmup, c.total, c.peak, c.minRatio)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c, err, c.want)
		}
	}
}

func TestCosineStartsNegativeStepsAtZero(t *testing.T) {
	if got := mustCosine(t, 10, 100, 1, 0.1).At(-3); got != 0 {
		t.Fatalf("step -3: %v, want 0", got)
	}
}
