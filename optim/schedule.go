package optim

import (
	"math"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// Cosine is the learning-rate schedule of the paper's C4 runs (GaLore's training_utils,
// scheduler "cosine"): over a run of total steps, a linear warm-up from 0 to peak over
// the first warmup steps, then a cosine from peak down to minRatio·peak at step total:
//
//	step < warmup:  peak · step/warmup
//	otherwise:      peak · (minRatio + (1-minRatio)·(1 + cos(π·p))/2),  p = (step-warmup)/(total-warmup)
//
// The recipe uses minRatio 0.1. Steps from total on stay at minRatio·peak, where the
// reference, which restarts the cycle, would warm up again.
type Cosine struct {
	warmup, total  int
	peak, minRatio float64
}

// NewCosine checks the schedule's settings: 0 ≤ warmup < total, peak a finite number
// ≥ 0 and minRatio in [0, 1].
func NewCosine(warmup, total int, peak, minRatio float64) (Cosine, error) {
	if warmup < 0 || warmup >= total {
		return Cosine{}, errors.Errorf("optim: cosine schedule with warm-up %d and %d steps: expected 0 ≤ warm-up < steps", warmup, total)
	}
	err := check.First(
		check.Float("optim", "cosine schedule peak", peak, peak >= 0, "a finite number ≥ 0"),
		check.Float("optim", "cosine schedule min ratio", minRatio, minRatio >= 0 && minRatio <= 1, "a ratio in [0, 1]"),
	)
	return Cosine{warmup: warmup, total: total, peak: peak, minRatio: minRatio}, err
}

// At is the learning rate of step (0-based); a negative step counts as step 0.
func (c Cosine) At(step int) float64 {
	step = max(step, 0)
	if step < c.warmup {
		return c.peak * float64(step) / float64(c.warmup)
	}
	p := math.Min(1, float64(step-c.warmup)/float64(c.total-c.warmup))
	return c.peak * (c.minRatio + (1-c.minRatio)*(1+math.Cos(math.Pi*p))/2)
}
