package vinit

import (
	"math"

	"github.com/pkg/errors"
)

// Batch is the input of one forward pass seen as sub-tokens: a T×Width matrix, row-major,
// in exactly one of F64 or F32. Each row is split into ceil(Width/M) sub-tokens of length M;
// when M does not divide Width the last sub-token of each row is zero-padded.
//
// Sub-token i is the (i mod ceil(Width/M))-th sub-token of row i / ceil(Width/M).
// Len and SubToken assume a consistent batch; Observe checks it first.
type Batch struct {
	F64   []float64 // the rows, when the batch is float64
	F32   []float32 // the rows, when the batch is float32
	Width int       // D, the row length
	M     int       // sub-token size
}

// Len returns the number of sub-tokens: T * ceil(Width/M). It is 0 when Width or M is
// not positive.
func (b Batch) Len() int {
	if b.Width <= 0 || b.M <= 0 {
		return 0
	}
	return b.rows() * b.perRow()
}

// SubToken copies sub-token i into dst, zero-padding past the end of its row.
// It panics if i is out of range or len(dst) != M.
func (b Batch) SubToken(i int, dst []float64) {
	if len(dst) != b.M {
		panic(errors.Errorf("vinit: sub-token destination has length %d, expected the sub-token size %d", len(dst), b.M))
	}
	if i < 0 || i >= b.Len() {
		panic(errors.Errorf("vinit: sub-token index %d out of range [0, %d)", i, b.Len()))
	}
	k := b.perRow()
	col := (i % k) * b.M
	start := (i/k)*b.Width + col
	n := min(b.M, b.Width-col)
	if b.F64 != nil {
		copy(dst, b.F64[start:start+n])
	} else {
		for j, x := range b.F32[start : start+n] {
			dst[j] = float64(x)
		}
	}
	clear(dst[n:])
}

// perRow is the number of sub-tokens in one row, ceil(Width/M).
func (b Batch) perRow() int { return (b.Width + b.M - 1) / b.M }

// rows is T, the number of rows.
func (b Batch) rows() int { return b.size() / b.Width }

// size is the number of stored elements.
func (b Batch) size() int { return len(b.F64) + len(b.F32) }

// validate checks that the batch is consistent and that its sub-token size is m.
func (b Batch) validate(m int) error {
	switch {
	case b.M <= 0:
		return errors.Errorf("vinit: sub-token size %d, expected a positive size", b.M)
	case b.M != m:
		return errors.Errorf("vinit: batch sub-token size %d, expected the projection's %d", b.M, m)
	case b.Width <= 0:
		return errors.Errorf("vinit: batch width %d, expected a positive width", b.Width)
	case len(b.F64) > 0 && len(b.F32) > 0:
		return errors.Errorf("vinit: batch sets both F64 (length %d) and F32 (length %d), expected exactly one", len(b.F64), len(b.F32))
	case b.size() == 0:
		return errors.New("vinit: batch is empty, expected at least one row in F64 or F32")
	case b.size()%b.Width != 0:
		return errors.Errorf("vinit: batch length %d, expected a multiple of the width %d", b.size(), b.Width)
	}
	return nil
}

// checkFinite returns an error naming the first NaN or ±Inf in the batch and its position.
func (b Batch) checkFinite() error {
	for p := range b.size() {
		var x float64
		if b.F64 != nil {
			x = b.F64[p]
		} else {
			x = float64(b.F32[p])
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			row, col := p/b.Width, p%b.Width
			return errors.Errorf("vinit: non-finite value %v at sub-token %d element %d (row %d, column %d)",
				x, row*b.perRow()+col/b.M, col%b.M, row, col)
		}
	}
	return nil
}

// mean returns the element-wise mean of all Len() sub-tokens, padding included (each
// padded element counts as a zero). It accumulates x/n rather than x so that finite
// inputs cannot overflow.
func (b Batch) mean() []float64 {
	n := float64(b.Len())
	sum := make([]float64, b.M)
	sub := make([]float64, b.M)
	for i := range b.Len() {
		b.SubToken(i, sub)
		for j, x := range sub {
			sum[j] += x / n
		}
	}
	return sum
}
