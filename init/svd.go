package vinit

import (
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// svdSamples is the most sub-tokens SVD factorises; larger batches are subsampled.
const svdSamples = 2048

// SVD returns the strategy whose v is the top right singular vector of the first batch's
// sub-tokens, frozen afterwards. A batch with more than 2048 sub-tokens is subsampled
// deterministically: sub-token i*Len()/2048 for i = 0..2047, evenly strided.
//
// A singular vector is defined up to sign. The sign is chosen so that v points the same
// way as the sampled sub-tokens' sum (<v, Σ rows> > 0); when that dot product is exactly
// zero, the entry of largest magnitude (the first such one) is made positive.
// An all-zero sample gives the all-ones direction.
func SVD() Strategy { return svdStrategy{} }

type svdStrategy struct{}

func (svdStrategy) String() string             { return "svd" }
func (svdStrategy) Init(s *State, m int) error { return initState(s, m) }
func (svdStrategy) Frozen(s *State) bool       { return s.V != nil }

func (f svdStrategy) Observe(s *State, b Batch) error {
	if err := checkBatch(s, b, !f.Frozen(s)); err != nil {
		return err
	}
	if !f.Frozen(s) {
		v, err := topRightSingular(b)
		if err != nil {
			return err
		}
		s.V = v
	}
	s.Batches++
	return nil
}

// topRightSingular returns the oriented top right singular vector of the sampled
// sub-tokens of b, which must be valid and finite.
func topRightSingular(b Batch) ([]float64, error) {
	n := min(b.Len(), svdSamples)
	a := mat.NewDense(n, b.M, nil)
	for r := range n {
		b.SubToken(r*b.Len()/n, a.RawRowView(r))
	}
	sum := make([]float64, b.M)
	for r := range n {
		floats.Add(sum, a.RawRowView(r))
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThinV) {
		return nil, errors.Errorf("vinit: SVD of the %d×%d sub-token matrix did not converge", n, b.M)
	}
	if svd.Values(nil)[0] == 0 {
		return unit(make([]float64, b.M)), nil
	}
	var vt mat.Dense
	svd.VTo(&vt)
	v := mat.Col(nil, 0, &vt)
	d := floats.Dot(v, sum)
	if d < 0 || (d == 0 && v[largestMagnitude(v)] < 0) {
		floats.Scale(-1, v)
	}
	return unit(v), nil
}

// largestMagnitude returns the index of the first entry of x with the largest |x[i]|.
func largestMagnitude(x []float64) int {
	best := 0
	for i, xi := range x {
		if math.Abs(xi) > math.Abs(x[best]) {
			best = i
		}
	}
	return best
}
