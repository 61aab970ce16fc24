package vinit

import (
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/floats"
)

// State is what one projection remembers between batches.
type State struct {
	V       []float64 // the current unit vector v (length M); nil until initialised
	Running []float64 // a strategy's running statistic (RunningMean's unnormalised mean); nil if unused (EMA's state is V)
	Batches int       // forward batches observed so far

	m int // sub-token size given to Init; 0 before Init
}

// Strategy produces v from data.
//
// Strategies hold configuration only and are comparable with ==; all per-projection
// memory is in the State they are handed.
type Strategy interface {
	// String returns the canonical name; Parse(s.String()) gives an equal strategy.
	String() string
	// Init is called once when the projection is created, with m the sub-token size.
	// It validates m > 0 and the strategy's parameters and resets s. Random sets s.V
	// here; data-driven strategies leave s.V nil until the first Observe.
	Init(s *State, m int) error
	// Observe is called with every forward batch before compression. It may set s.V and
	// increments s.Batches. On error s is left unchanged.
	Observe(s *State, b Batch) error
	// Frozen reports whether Observe would never change s.V again, which lets the caller
	// skip building a Batch.
	Frozen(s *State) bool
}

// initState validates m and resets s for a projection with sub-token size m.
func initState(s *State, m int) error {
	if m <= 0 {
		return errors.Errorf("vinit: sub-token size %d, expected a positive size", m)
	}
	*s = State{m: m}
	return nil
}

// size returns the projection's sub-token size: the one given to Init, or the length of
// a v set by the caller directly.
func (s *State) size() (int, error) {
	switch {
	case s.m > 0:
		return s.m, nil
	case s.V != nil:
		return len(s.V), nil
	}
	return 0, errors.New("vinit: state not initialised, expected Init before Observe")
}

// checkBatch validates b against s and, when the strategy will read its values, checks
// that every value is finite.
func checkBatch(s *State, b Batch, reads bool) error {
	m, err := s.size()
	if err != nil {
		return err
	}
	if err := b.validate(m); err != nil {
		return err
	}
	if reads {
		return b.checkFinite()
	}
	return nil
}

// unit returns x scaled to unit length, or the all-ones direction 1/sqrt(len(x)) when x
// is zero. x must be finite.
func unit(x []float64) []float64 {
	v := make([]float64, len(x))
	norm := floats.Norm(x, 2) // scaled: no overflow for finite x
	if norm == 0 {
		for i := range v {
			v[i] = 1 / math.Sqrt(float64(len(v)))
		}
		return v
	}
	for i, xi := range x {
		v[i] = xi / norm
	}
	return v
}
