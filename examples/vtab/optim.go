package main

import (
	"github.com/velora-go/velora/peft"
)

// schedule is AdamW under a linear warm-up over the first tenth of the steps
// and a cosine decay to MinLR·lr after it: the recipe of FacT and Hydra on
// VTAB-1k (JieShibo/PETL-ViT FacT/vtab.py, extremebird/Hydra vtab1k/train.py) with the
// paper's weight decay.
type schedule struct {
	*peft.AdamW
	peak, minRatio float64
	warmup, total  int
	step           int
}

func newSchedule(c Config, lr float64, total int) (*schedule, error) {
	opt, err := peft.NewAdamW(peft.AdamConfig{LearningRate: lr, WeightDecay: c.WeightDecay})
	if err != nil {
		return nil, err
	}
	total = max(total, 1)
	return &schedule{AdamW: opt, peak: lr, minRatio: c.MinLR, warmup: int(c.Warmup * float64(total-1)), total: total}, nil
}

// next sets the learning rate of the coming step.
func (s *schedule) next() {
	s.SetLearningRate(peft.CosineSchedule(min(s.step, s.total-1), s.warmup, s.total, s.peak, s.minRatio))
	s.step++
}
