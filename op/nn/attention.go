package nn

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/kernel"
	"github.com/velora-go/velora/op/internal/opkit"
)

// Attention is multi-head scaled dot-product attention over B sequences of
// T tokens: q, k, v: (B, T, D) with D = heads·dh → (B, T, D). Head h reads
// and writes the columns [h·dh, (h+1)·dh):
//
//	out_h = softmax(q_h k_hᵀ/√dh + mask) v_h
//
// where mask is −∞ above the diagonal (token i sees tokens j ≤ i) when
// causal is set and zero otherwise.
//
// The (B, heads, T, T) probabilities are never stored. The builder adds a
// node lse: (B, heads, T), the log-sum-exp of every row of scaled, masked
// scores, as an argument of the output op (as Linear does with z), so it is
// computed in the forward pass. The backward graph reads q, k, v, lse and
// the output gradient dO only, not even the output: with P = exp(S − lse)
// and dP = dO vᵀ, rowsum(dO ⊙ O) equals rowsum(P ⊙ dP), which the backward
// computes from its own blocks. It recomputes the scores one block of query
// rows of one (sequence, head) at a time, with all the keys those rows see,
// in two scratch blocks of at most ⌊T/2⌋ (and 64) rows by T: together no
// more than one T×T buffer per call (2T for T = 1).
//
// The backward is one op that writes [dq; dk; dv] into a single
// (3, B, T, D) buffer, and three ops that hand out its thirds as views,
// without copying. Three separate gradient ops would not lower the peak:
// q, k, v and dO stay alive until the last of the three gradients exists,
// so all three coexist with them at the worst moment either way, and each
// op would recompute the scores (8 block products instead of 5). Copies out
// of the buffer would add a (B, T, D) buffer at that moment. The price of
// the views is that the buffer is freed only when the last of the three
// gradients dies (package machine counts memory that values share once).
//
// The forward computes the scores twice (for lse, then for the output) and
// the backward once more.
func Attention(q, k, v *gorgonia.Node, heads int, causal bool) (*gorgonia.Node, error) {
	if err := checkAttentionInputs(q, k, v, heads); err != nil {
		return nil, err
	}
	lse, err := gorgonia.ApplyOp(&attentionOp{heads: heads, causal: causal, part: attentionLSE}, q, k)
	if err != nil {
		return nil, check.Wrap(err, "nn: Attention log-sum-exp")
	}
	return gorgonia.ApplyOp(&attentionOp{heads: heads, causal: causal, part: attentionForward}, q, k, v, lse)
}

// checkAttentionInputs checks q, k, v: (B, T, D) of one float dtype with
// heads dividing D.
func checkAttentionInputs(q, k, v *gorgonia.Node, heads int) error {
	if q == nil || k == nil || v == nil {
		return errors.New("nn: Attention: q, k or v is nil")
	}
	if q.Dims() != 3 {
		return errors.Errorf("nn: Attention: query %q has shape %v, expected (B, T, D)", q.Name(), q.Shape())
	}
	if err := opkit.CheckFloatDtype(q.Dtype(), "nn: Attention query"); err != nil {
		return err
	}
	for _, n := range []*gorgonia.Node{k, v} {
		if !n.Shape().Eq(q.Shape()) {
			return errors.Errorf("nn: Attention: %q has shape %v, expected the query %q's shape %v", n.Name(), n.Shape(), q.Name(), q.Shape())
		}
		if err := opkit.CheckTogether("nn: Attention", q, n); err != nil {
			return err
		}
	}
	if heads <= 0 {
		return errors.Errorf("nn: Attention: %d heads, expected at least 1", heads)
	}
	if d := q.Shape()[2]; d%heads != 0 {
		return errors.Errorf("nn: Attention: width %d of %q, expected a multiple of the %d heads", d, q.Name(), heads)
	}
	return nil
}

// attentionPart says what an attentionOp computes.
type attentionPart int

const (
	attentionLSE     attentionPart = iota // (q, k) → lse: (B, heads, T)
	attentionForward                      // (q, k, v, lse) → out: (B, T, D)
	attentionGrad                         // (q, k, v, lse, dO) → [dq; dk; dv]: (3, B, T, D)
)

// attentionOp is one part of Attention.
type attentionOp struct {
	opkit.Pure
	heads  int
	causal bool
	part   attentionPart
}

func (o *attentionOp) Arity() int { return [...]int{2, 4, 5}[o.part] }

func (o *attentionOp) Type() hm.Type {
	ts := make([]hm.Type, o.Arity(), o.Arity()+1)
	for i := range ts {
		ts[i] = opkit.TensorType(3)
	}
	if o.part == attentionGrad {
		return hm.NewFnType(append(ts, opkit.TensorType(4))...)
	}
	return hm.NewFnType(append(ts, opkit.TensorType(3))...)
}

// shape is the result's shape for a query of shape q: (B, T, D).
func (o *attentionOp) shape(q tensor.Shape) tensor.Shape {
	switch o.part {
	case attentionLSE:
		return tensor.Shape{q[0], o.heads, q[1]}
	case attentionGrad:
		return tensor.Shape{3, q[0], q[1], q[2]}
	}
	return q.Clone()
}

func (o *attentionOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	q, ok := ds[0].(tensor.Shape)
	if !ok || len(q) != 3 {
		return nil, opkit.Errorf(o, "query shape %v, expected (B, T, D)", ds[0])
	}
	return o.shape(q), nil
}

func (o *attentionOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *attentionOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *attentionOp) String() string {
	return fmt.Sprintf("Attention%s{heads=%d, causal=%t}", [...]string{"LSE", "", "Grad"}[o.part], o.heads, o.causal)
}

func (o *attentionOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *attentionOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *attentionOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	return opkit.Shaped(in, o.checkValues, o.shape)
}

func (o *attentionOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	s := in[0].Shape()
	a := attentionShape{b: s[0], t: s[1], d: s[2], heads: o.heads, dh: s[2] / o.heads, causal: o.causal}
	switch od := out.Data().(type) {
	case []float64:
		attentionKernel(o.part, a, od, opkit.Datas[float64](in))
	case []float32:
		attentionKernel(o.part, a, od, opkit.Datas[float32](in))
	}
	return nil
}

// checkValues checks the shapes of (q, k[, v, lse[, dO]]).
func (o *attentionOp) checkValues(ds []*tensor.Dense) error {
	q := ds[0].Shape()
	if len(q) != 3 || q[2]%o.heads != 0 {
		return errors.Errorf("query shape %v, expected (B, T, D) with D divisible by %d", q, o.heads)
	}
	want := []tensor.Shape{q, q, q, {q[0], o.heads, q[1]}, q}
	for i, d := range ds[1:] {
		if !d.Shape().Eq(want[i+1]) {
			return errors.Errorf("input %d has shape %v, expected %v", i+1, d.Shape(), want[i+1])
		}
	}
	return nil
}

func (o *attentionOp) DiffWRT(int) []bool {
	if o.part != attentionForward {
		return make([]bool, o.Arity()) // lse passes no gradient: the gradients of q and k account for it
	}
	return []bool{true, true, true, false}
}

func (o *attentionOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	all, err := gorgonia.ApplyOp(&attentionOp{heads: o.heads, causal: o.causal, part: attentionGrad}, append(inputs[:4:4], grad)...)
	if err != nil {
		return nil, check.Wrapf(err, "nn: %v gradient", o)
	}
	grads := make(gorgonia.Nodes, 4)
	for i := range grads[:3] {
		if grads[i], err = gorgonia.ApplyOp(attentionGradPartOp{part: i}, all); err != nil {
			return nil, check.Wrapf(err, "nn: %v gradient", o)
		}
	}
	return grads, nil
}

func (o *attentionOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if o.part != attentionForward {
		return nil // lse passes no gradient: the gradients of q and k account for it
	}
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	all, err := (&attentionOp{heads: o.heads, causal: o.causal, part: attentionGrad}).Do(append(opkit.NodeValues(inputs), g)...)
	if err != nil {
		return err
	}
	for i, n := range inputs[:3] {
		if err := opkit.AddGradient(n, attentionGradPartOp{part: i}, all); err != nil {
			return err
		}
	}
	return nil
}

// attentionShape is the geometry of one attention call.
type attentionShape struct {
	b, t, d, heads, dh int
	causal             bool
}

// blockRows is the number of query rows whose scores are recomputed at
// once: at most 64, and at most T/2 so that two blocks of scores fit in
// T×T.
func (a attentionShape) blockRows() int { return max(1, min(64, a.t/2)) }

// attentionBlock is a block of query rows [i0, i0+rows) of one (sequence,
// head) and the keys [0, n) that they see.
type attentionBlock struct {
	off         int // where the (sequence, head) starts in q, k, v, out: b·T·D + h·dh
	row         int // where the block's first row starts in q and out: off + i0·D
	lse         int // where the block's first row is in lse: (b·heads + h)·T + i0
	i0, rows, n int
}

// forBlocks calls f for every block, sequence by sequence and head by
// head, with the (sequence, head) pairs split across GOMAXPROCS goroutines:
// the blocks of different pairs write disjoint parts of every output. f
// gets scratch, buffers of blockRows·T values of its goroutine's own
// (lent by getScratch for the goroutine's run).
func forBlocks[T opkit.Float](a attentionShape, buffers int, f func(blk attentionBlock, scratch [][]T)) {
	br := a.blockRows()
	kernel.ParallelRows(a.b*a.heads, a.t*a.t*a.dh, func(lo, hi int) {
		scratch := make([][]T, buffers)
		for i := range scratch {
			scratch[i] = opkit.GetScratch[T](br * a.t)
			defer opkit.PutScratch(scratch[i])
		}
		for pair := lo; pair < hi; pair++ {
			b, h := pair/a.heads, pair%a.heads
			off := b*a.t*a.d + h*a.dh
			for i0 := 0; i0 < a.t; i0 += br {
				rows, n := min(br, a.t-i0), a.t
				if a.causal {
					n = i0 + rows
				}
				f(attentionBlock{off: off, row: off + i0*a.d, lse: pair*a.t + i0, i0: i0, rows: rows, n: n}, scratch)
			}
		}
	})
}

// seen is the number of keys query row i sees among the block's n.
func (a attentionShape) seen(i, n int) int {
	if a.causal {
		return i + 1
	}
	return n
}

// attentionKernel computes one part into out from in = (q, k[, v, lse[, dO]]).
func attentionKernel[T opkit.Float](part attentionPart, a attentionShape, out []T, in [][]T) {
	q, k := in[0], in[1]
	switch part {
	case attentionLSE:
		forBlocks(a, 1, func(blk attentionBlock, scratch [][]T) {
			scores := scratch[0]
			attentionScores(a, blk, scores, q, k)
			for r := 0; r < blk.rows; r++ {
				out[blk.lse+r] = kernel.LogSumExp(scores[r*blk.n : r*blk.n+a.seen(blk.i0+r, blk.n)])
			}
		})
	case attentionForward:
		v, lse := in[2], in[3]
		forBlocks(a, 1, func(blk attentionBlock, scratch [][]T) {
			scores := scratch[0]
			attentionProbs(a, blk, scores, q, k, lse)
			kernel.Gemm(false, false, blk.rows, a.dh, blk.n, 1, scores, blk.n, v[blk.off:], a.d, 0, out[blk.row:], a.d)
		})
	case attentionGrad:
		attentionBackward(a, out, in)
	}
}

// attentionBackward writes [dq; dk; dv] into out from in = (q, k, v, lse,
// dO). For a block with probabilities P and dP = dO vᵀ,
// dS = P ⊙ (dP − rowsum(P ⊙ dP)); then dq = dS k/√dh, dk += dSᵀ q/√dh and
// dv += Pᵀ dO.
func attentionBackward[T opkit.Float](a attentionShape, out []T, in [][]T) {
	q, k, v, lse, dout := in[0], in[1], in[2], in[3], in[4]
	n := a.b * a.t * a.d
	dq, dk, dv := out[:n], out[n:2*n], out[2*n:]
	clear(out)
	scale := T(1 / math.Sqrt(float64(a.dh)))
	forBlocks(a, 2, func(blk attentionBlock, scratch [][]T) {
		p, ds := scratch[0], scratch[1]
		attentionProbs(a, blk, p, q, k, lse)
		kernel.Gemm(true, false, blk.n, a.dh, blk.rows, 1, p, blk.n, dout[blk.row:], a.d, 1, dv[blk.off:], a.d)
		kernel.Gemm(false, true, blk.rows, blk.n, a.dh, 1, dout[blk.row:], a.d, v[blk.off:], a.d, 0, ds, blk.n)
		for r := 0; r < blk.rows; r++ {
			pr, dr := p[r*blk.n:(r+1)*blk.n], ds[r*blk.n:(r+1)*blk.n]
			var delta float64
			for j, pj := range pr {
				delta += float64(pj) * float64(dr[j])
			}
			for j, pj := range pr {
				dr[j] = pj * (dr[j] - T(delta))
			}
		}
		kernel.Gemm(false, false, blk.rows, a.dh, blk.n, scale, ds, blk.n, k[blk.off:], a.d, 0, dq[blk.row:], a.d)
		kernel.Gemm(true, false, blk.n, a.dh, blk.rows, scale, ds, blk.n, q[blk.row:], a.d, 1, dk[blk.off:], a.d)
	})
}

// attentionScores writes the block's scaled scores q kᵀ/√dh into s:
// (rows, n).
func attentionScores[T opkit.Float](a attentionShape, blk attentionBlock, s, q, k []T) {
	scale := T(1 / math.Sqrt(float64(a.dh)))
	kernel.Gemm(false, true, blk.rows, blk.n, a.dh, scale, q[blk.row:], a.d, k[blk.off:], a.d, 0, s, blk.n)
}

// attentionProbs writes the block's probabilities exp(s − lse) into p:
// (rows, n), zero where the mask hides a key.
func attentionProbs[T opkit.Float](a attentionShape, blk attentionBlock, p, q, k, lse []T) {
	attentionScores(a, blk, p, q, k)
	for r := 0; r < blk.rows; r++ {
		row := p[r*blk.n : (r+1)*blk.n]
		seen := a.seen(blk.i0+r, blk.n)
		kernel.ExpShift(row[:seen], row[:seen], lse[blk.lse+r], 1)
		clear(row[seen:])
	}
}

// attentionGradPartOp hands out one of dq, dk, dv (part 0, 1, 2): a
// (B, T, D) view of that third of the (3, B, T, D) gradient, sharing its
// memory. A view fills no buffer, so it has no UsePreallocDo.
type attentionGradPartOp struct{ part int }

func (o attentionGradPartOp) Arity() int { return 1 }

func (o attentionGradPartOp) Type() hm.Type {
	return hm.NewFnType(opkit.TensorType(4), opkit.TensorType(3))
}

func (o attentionGradPartOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := ds[0].(tensor.Shape)
	if !ok || len(s) != 4 || s[0] != 3 {
		return nil, opkit.Errorf(o, "input shape %v, expected (3, B, T, D)", ds[0])
	}
	return s[1:].Clone(), nil
}

func (o attentionGradPartOp) ReturnsPtr() bool { return true }

func (o attentionGradPartOp) CallsExtern() bool { return false }

func (o attentionGradPartOp) OverwritesInput() int { return -1 }

// ViewOf says that the result lives in argument 0's memory (machine.ViewOp).
func (o attentionGradPartOp) ViewOf() int { return 0 }

func (o attentionGradPartOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o attentionGradPartOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o attentionGradPartOp) String() string {
	return fmt.Sprintf("AttentionGradPart[%s]", [...]string{"q", "k", "v"}[o.part])
}

func (o attentionGradPartOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	all, ok := vs[0].(*tensor.Dense)
	if !ok {
		return nil, opkit.Errorf(o, "input is a %T, expected a *tensor.Dense", vs[0])
	}
	s, err := o.InferShape(all.Shape())
	if err != nil {
		return nil, err
	}
	n := s.TotalSize()
	var part any
	switch d := all.Data().(type) {
	case []float64:
		part = d[o.part*n : (o.part+1)*n]
	case []float32:
		part = d[o.part*n : (o.part+1)*n]
	}
	return tensor.New(tensor.WithShape(s...), tensor.WithBacking(part)), nil
}

var (
	_ gorgonia.Op              = (*attentionOp)(nil)
	_ gorgonia.SDOp            = (*attentionOp)(nil)
	_ gorgonia.ADOp            = (*attentionOp)(nil)
	_ gorgonia.UsePreallocDoer = (*attentionOp)(nil)
	_ gorgonia.Op              = attentionGradPartOp{}
)
