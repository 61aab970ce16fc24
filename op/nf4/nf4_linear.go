package nf4

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/kernel"
	"github.com/velora-go/velora/op/internal/opkit"
)

// nf4TileElems bounds the part of an NF4 weight that is dequantised at a
// time: about 64K weights, 256 KiB in float32.
const nf4TileElems = 1 << 16

// Linear is QLoRA's frozen base layer (arXiv 2305.14314): x @ w for a
// weight w: (D, Dout) stored in NF4, x: (T, D) → (T, Dout). It dequantises
// a few columns of w at a time into a small buffer and multiplies, so the
// float weight never exists whole. Its backward gives grad_x = g wᵀ only:
// the weight is not a graph input and gets no gradient, and the graph never
// keeps x for it. x may be float32 or float64 whatever dtype q was
// quantised from; the result has x's dtype.
func Linear(x *gorgonia.Node, q *Weight) (*gorgonia.Node, error) {
	if q == nil {
		return nil, errors.New("nf4: Linear: NF4 weight is nil")
	}
	if err := opkit.CheckMatrix(x, "nf4: Linear input"); err != nil {
		return nil, err
	}
	if x.Shape()[1] != q.rows {
		return nil, errors.Errorf("nf4: Linear: input %q has shape %v and the NF4 weight has shape %v: inner dimensions %d and %d differ",
			x.Name(), x.Shape(), q.Shape(), x.Shape()[1], q.rows)
	}
	return gorgonia.ApplyOp(&nf4LinearOp{nf4MatMulOp{q: q}}, x)
}

// nf4MatMulOp multiplies by w = dequant(q): a @ w, (T, D) → (T, Dout), or
// with transB a @ wᵀ, (T, Dout) → (T, D). The latter is Linear's input
// gradient. It has no gradient of its own.
type nf4MatMulOp struct {
	opkit.Pure
	q      *Weight
	transB bool
}

func (o *nf4MatMulOp) Arity() int { return 1 }

func (o *nf4MatMulOp) Type() hm.Type { return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2)) }

// widths returns the width of the input and of the result.
func (o *nf4MatMulOp) widths() (in, out int) {
	if o.transB {
		return o.q.cols, o.q.rows
	}
	return o.q.rows, o.q.cols
}

func (o *nf4MatMulOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	a, ok := ds[0].(tensor.Shape)
	if !ok {
		return nil, opkit.Errorf(o, "input shape %v, expected a matrix shape", ds[0])
	}
	s, err := o.shape(a)
	if err != nil {
		return nil, opkit.Errorf(o, "%v", err)
	}
	return s, nil
}

// shape is the result's shape for an input of shape a.
func (o *nf4MatMulOp) shape(a tensor.Shape) (tensor.Shape, error) {
	in, out := o.widths()
	if len(a) != 2 || a[1] != in {
		return nil, errors.Errorf("input shape %v, expected (T, %d)", a, in)
	}
	return tensor.Shape{a[0], out}, nil
}

// WriteHash tells weights apart by address: two ops are the same only if
// they multiply by the same Weight.
func (o *nf4MatMulOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", o, o.q) }

func (o *nf4MatMulOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *nf4MatMulOp) String() string { return fmt.Sprintf("NF4MatMul{%v, transB=%t}", o.q, o.transB) }

func (o *nf4MatMulOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *nf4MatMulOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *nf4MatMulOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	dt, err := opkit.SameFloat(in...)
	if err != nil {
		return dt, nil, err
	}
	s, err := o.shape(in[0].Shape())
	return dt, s, err
}

func (o *nf4MatMulOp) Compute(c *tensor.Dense, in []*tensor.Dense) error {
	t := c.Shape()[0]
	switch cd := c.Data().(type) {
	case []float64:
		nf4Product(o.q, o.transB, in[0].Data().([]float64), cd, t)
	case []float32:
		nf4Product(o.q, o.transB, in[0].Data().([]float32), cd, t)
	}
	return nil
}

// nf4Product computes c = a @ w, a: (t, D), c: (t, Dout), or with transB
// c = a @ wᵀ, a: (t, Dout), c: (t, D), for w = dequant(q). It dequantises
// a tile of k rows of the right operand's transpose at a time, (k, width of
// a), and computes k columns of c as c[:, j:j+k] = a @ tileᵀ, which BLAS
// runs as dot products of contiguous rows. Forward the tile is k storage
// rows (contiguous); with transB it is k rows of w, gathered from k
// consecutive positions of every storage row.
func nf4Product[T opkit.Float](q *Weight, transB bool, a, c []T, t int) {
	absmax := q.absmaxInto(opkit.GetScratch[float32](len(q.absmaxCodes)))
	defer opkit.PutScratch(absmax)
	in, out := q.rows, q.cols
	if transB {
		in, out = out, in
	}
	rows := max(1, min(out, nf4TileElems/in))
	tile := opkit.GetScratch[T](rows * in)
	defer opkit.PutScratch(tile)
	for j := 0; j < out; j += rows {
		k := min(rows, out-j)
		if transB {
			for o := range in {
				dequantizeRange(q, absmax, o*q.rows+j, k, tile[o:], in)
			}
		} else {
			dequantizeRange(q, absmax, j*q.rows, k*q.rows, tile, 1)
		}
		kernel.Gemm(false, true, t, k, in, 1, a, in, tile, in, 0, c[j:], out)
	}
}

// nf4LinearOp is NF4Linear's forward x @ w, whose gradient flows to x
// only.
type nf4LinearOp struct{ nf4MatMulOp }

func (o *nf4LinearOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", o, o.q) }

func (o *nf4LinearOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *nf4LinearOp) String() string { return fmt.Sprintf("NF4Linear{%v}", o.q) }

func (o *nf4LinearOp) DiffWRT(int) []bool { return []bool{true} }

func (o *nf4LinearOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gx, err := gorgonia.ApplyOp(&nf4MatMulOp{q: o.q, transB: true}, grad)
	if err != nil {
		return nil, check.Wrap(err, "nf4: Linear gradient")
	}
	return gorgonia.Nodes{gx}, nil
}

func (o *nf4LinearOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	return opkit.AddGradient(inputs[0], &nf4MatMulOp{q: o.q, transB: true}, g)
}

var (
	_ gorgonia.Op              = (*nf4MatMulOp)(nil)
	_ gorgonia.UsePreallocDoer = (*nf4MatMulOp)(nil)
	_ gorgonia.Op              = (*nf4LinearOp)(nil)
	_ gorgonia.SDOp            = (*nf4LinearOp)(nil)
	_ gorgonia.ADOp            = (*nf4LinearOp)(nil)
	_ gorgonia.UsePreallocDoer = (*nf4LinearOp)(nil)
)
