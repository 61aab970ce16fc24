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
// latest batch, recomputed on every forward pass (HuggingFace PEFT's default). A zero
// mean gives the all-ones direction.
func BatchMean() Strategy { return batchMean{} }

// RunningMean returns the strategy that keeps an exponential running mean of the batch
// means, State.Running = decay*Running + (1-decay)*mean, and sets v to Running normalised.
// The first batch sets Running to its mean (no bias towards zero). decay must be in
// [0, 1); Init returns an error otherwise. decay 0 behaves like BatchMean.
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

func (r runningMean) validate() error {
	if !(r.decay >= 0 && r.decay < 1) {
		return errors.Errorf("vinit: running mean decay %v is not in [0, 1)", r.decay)
	}
	return nil
}

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
		return errors.Errorf("vinit: running mean has length %d, want sub-token size %d", len(s.Running), b.M)
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
