package vinit

import (
	"strconv"

	"github.com/pkg/errors"
)

// The mean of a batch is the element-wise mean of all its Len() sub-tokens, zero-padded
// ones included, so padding only ever adds zeros to the last elements.

// FirstBatchMean returns the strategy whose v is the mean of the first batch's
// sub-tokens, normalised, and frozen afterwards: the paper's "fixed average" and its
// default. A zero mean gives the all-ones direction.
func FirstBatchMean() Strategy { return firstBatchMean{} }

// BatchMean returns the strategy whose v is the normalised mean of the sub-tokens of the
// latest batch, recomputed on every forward pass (the default init_type of HuggingFace
// PEFT's VeLoRA variant, huggingface/peft, src/peft/tuners/lora/velora.py). A zero mean gives the all-ones
// direction.
func BatchMean() Strategy { return batchMean{} }

// EMA returns the reference implementation's ema_<decay> strategy: the first batch sets
// v to its normalised mean, and every later batch n mixes the previous unit v with the
// batch's raw mean and normalises the result,
//
//	v₁ = mean₁/‖mean₁‖,  vₙ = uₙ/‖uₙ‖ with uₙ = decay·vₙ₋₁ + (1−decay)·meanₙ.
//
// Because v has length 1 and the means do not, the weight the history keeps depends on
// the size of the data: after means (2, 0) and (0, −3) at decay 0.5, v = (1, −3)/√10 ≈
// (0.316, −0.949). The state is v itself (State.Running stays nil). decay must be in
// [0, 1); Init returns an error otherwise. decay 0 behaves like BatchMean.
func EMA(decay float64) Strategy { return ema{decay: decay} }

// RunningMean returns this package's own exponential running mean of the batch means,
// kept raw in State.Running, with v the running mean normalised:
//
//	r₁ = mean₁,  rₙ = decay·rₙ₋₁ + (1−decay)·meanₙ,  vₙ = rₙ/‖rₙ‖.
//
// Unlike [EMA], which mixes a unit v with raw means, it weighs every batch by decay alone
// whatever the size of the data: after means (2, 0) and (0, −3) at decay 0.5, v = (1,
// −1.5)/‖(1, −1.5)‖ ≈ (0.555, −0.832). decay must be in [0, 1); Init returns an error
// otherwise. decay 0 behaves like BatchMean.
func RunningMean(decay float64) Strategy { return runningMean{decay: decay} }

type firstBatchMean struct{}

func (firstBatchMean) String() string             { return "first_batch_mean" }
func (firstBatchMean) Init(s *State, m int) error { return initState(s, m) }
func (firstBatchMean) Frozen(s *State) bool       { return s.V != nil }

func (f firstBatchMean) Observe(s *State, b Batch) error {
	if err := checkBatch(s, b, !f.Frozen(s)); err != nil {
		return err
	}
	if !f.Frozen(s) {
		s.V = unit(b.mean())
	}
	s.Batches++
	return nil
}

type batchMean struct{}

func (batchMean) String() string             { return "batch_mean" }
func (batchMean) Init(s *State, m int) error { return initState(s, m) }
func (batchMean) Frozen(*State) bool         { return false }

func (batchMean) Observe(s *State, b Batch) error {
	if err := checkBatch(s, b, true); err != nil {
		return err
	}
	s.V = unit(b.mean())
	s.Batches++
	return nil
}

type runningMean struct{ decay float64 }

func (r runningMean) String() string {
	return "running_mean_" + strconv.FormatFloat(r.decay, 'g', -1, 64)
}

// checkDecay returns an error naming the strategy unless decay is in [0, 1).
func checkDecay(what string, decay float64) error {
	if !(decay >= 0 && decay < 1) {
		return errors.Errorf("vinit: %s decay %v, expected a value in [0, 1)", what, decay)
	}
	return nil
}

func (r runningMean) validate() error { return checkDecay("running mean", r.decay) }

func (r runningMean) Init(s *State, m int) error {
	if err := r.validate(); err != nil {
		return err
	}
	return initState(s, m)
}

func (runningMean) Frozen(*State) bool { return false }

func (r runningMean) Observe(s *State, b Batch) error {
	if err := r.validate(); err != nil {
		return err
	}
	if err := checkBatch(s, b, true); err != nil {
		return err
	}
	if s.Running != nil && len(s.Running) != b.M {
		return errors.Errorf("vinit: running mean has length %d, expected the sub-token size %d", len(s.Running), b.M)
	}
	mean := b.mean()
	if s.Running != nil {
		for j := range mean {
			mean[j] = r.decay*s.Running[j] + (1-r.decay)*mean[j]
		}
	}
	s.Running = mean
	s.V = unit(mean)
	s.Batches++
	return nil
}

type ema struct{ decay float64 }

func (e ema) String() string { return "ema_" + strconv.FormatFloat(e.decay, 'g', -1, 64) }

func (e ema) validate() error { return checkDecay("ema", e.decay) }

func (e ema) Init(s *State, m int) error {
	if err := e.validate(); err != nil {
		return err
	}
	return initState(s, m)
}

func (ema) Frozen(*State) bool { return false }

func (e ema) Observe(s *State, b Batch) error {
	if err := e.validate(); err != nil {
		return err
	}
	if err := checkBatch(s, b, true); err != nil {
		return err
	}
	if s.V != nil && len(s.V) != b.M {
		return errors.Errorf("vinit: ema's v has length %d, expected the sub-token size %d", len(s.V), b.M)
	}
	mix := b.mean()
	if s.V != nil {
		for j := range mix {
			mix[j] = e.decay*s.V[j] + (1-e.decay)*mix[j]
		}
	}
	s.V = unit(mix)
	s.Batches++
	return nil
}
