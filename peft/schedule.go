package peft

import (
	"math"

	"github.com/pkg/errors"
)

// CosineSchedule is the learning rate of step (0-based) of a run of total steps under
// the schedule of the paper's C4 runs (GaLore's training_utils, scheduler "cosine"): a
// linear warm-up from 0 to peak over the first warmup steps, then a cosine from peak
// down to minRatio·peak at step total:
//
//	step < warmup:  peak · step/warmup
//	otherwise:      peak · (minRatio + (1-minRatio)·(1 + cos(π·p))/2),  p = (step-warmup)/(total-warmup)
//
// The recipe uses minRatio 0.1. Steps from total on stay at minRatio·peak, where the
// reference, which restarts the cycle, would warm up again. It panics unless
// 0 ≤ step, 0 ≤ warmup < total and 0 ≤ minRatio ≤ 1: the arguments are the program's
// constants, not data.
func CosineSchedule(step, warmup, total int, peak, minRatio float64) float64 {
	if step < 0 || warmup < 0 || warmup >= total || !(minRatio >= 0 && minRatio <= 1) {
		panic(errors.Errorf("peft: cosine schedule with step %d, warmup %d, total %d, min ratio %v: want 0 ≤ step, 0 ≤ warmup < total, min ratio in [0, 1]", step, warmup, total, minRatio))
	}
	if step < warmup {
		return peak * float64(step) / float64(warmup)
	}
	p := math.Min(1, float64(step-warmup)/float64(total-warmup))
	return peak * (minRatio + (1-minRatio)*(1+math.Cos(math.Pi*p))/2)
}
