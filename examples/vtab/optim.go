package main

import "github.com/velora-go/velora/optim"

// schedule is AdamW under a linear warm-up over the first tenth of the steps
// and a cosine decay to MinLR·lr after it: the recipe of FacT and Hydra on
// VTAB-1k (JieShibo/PETL-ViT FacT/vtab.py, extremebird/Hydra vtab1k/train.py) with the
// paper's weight decay.
type schedule struct {
	*optim.AdamW
	lr    optim.Cosine
	total int
	step  int
}

func newSchedule(c Config, lr float64, total int) (*schedule, error) {
	opt, err := optim.NewAdamW(optim.AdamConfig{LearningRate: lr, WeightDecay: c.WeightDecay})
	if err != nil {
		return nil, err
	}
	total = max(total, 1)
	cosine, err := optim.NewCosine(int(c.Warmup*float64(total-1)), total, lr, c.MinLR)
	if err != nil {
		return nil, err
	}
	return &schedule{AdamW: opt, lr: cosine, total: total}, nil
}

// next sets the learning rate of the coming step.
func (s *schedule) next() {
	s.SetLearningRate(s.lr.At(min(s.step, s.total-1)))
	s.step++
}
