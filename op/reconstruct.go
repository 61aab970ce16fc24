package op

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op/internal/opkit"
)

// Reconstruct maps z back to the input space: z: (T, K) → x̂: (T, K·M),
// x̂[t, kM+m] = z[t,k]·v[m], each sub-token's orthogonal projection onto v.
// It is the reference path; Linear's weight gradient never builds x̂.
//
// When z is the output of Compress, x̂ has the compressed input's width D
// (the zero padding of the last sub-token is cut off); otherwise its width
// is K·M. z has the projection's ZDtype (a 16-bit z is widened; x̂ has v's
// dtype).
func Reconstruct(z *gorgonia.Node, p *Projection) (*gorgonia.Node, error) {
	if p == nil {
		return nil, errors.New("op: Reconstruct: projection is nil")
	}
	if err := checkZ(z, p); err != nil {
		return nil, check.Wrap(err, "op: Reconstruct")
	}
	width := z.Shape()[1] * p.m
	if c, ok := z.Op().(*compressOp); ok {
		width = c.width
	}
	return reconstruct(z, p, width)
}

// reconstruct builds x̂ of the given width, cutting the zero padding of the
// last sub-token when M does not divide it.
func reconstruct(z *gorgonia.Node, p *Projection, width int) (*gorgonia.Node, error) {
	if err := checkZ(z, p); err != nil {
		return nil, check.Wrap(err, "op: Reconstruct")
	}
	if k := z.Shape()[1]; k != opkit.Groups(width, p.m) {
		return nil, errors.Errorf("op: Reconstruct: z has %d sub-tokens per row, expected %d for width %d and sub-token size %d", k, opkit.Groups(width, p.m), width, p.m)
	}
	return gorgonia.ApplyOp(&reconstructOp{p: p, width: width}, z, p.V())
}

// reconstructOp computes x̂ from (z, v).
type reconstructOp struct {
	opkit.Pure
	p     *Projection
	width int
}

func (o *reconstructOp) Arity() int { return 2 }

func (o *reconstructOp) Type() hm.Type {
	return hm.NewFnType(o.p.zType(), opkit.TensorType(1), opkit.TensorType(2))
}

func (o *reconstructOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	t, err := ds[0].DimSize(0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{t, o.width}, nil
}

func (o *reconstructOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *reconstructOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *reconstructOp) String() string {
	return fmt.Sprintf("VeLoRAReconstruct{%s, M=%d, D=%d%s}", o.p.node.Name(), o.p.m, o.width, zSuffix(o.p))
}

func (o *reconstructOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, nil, vs)
}

func (o *reconstructOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *reconstructOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	z := in[0]
	if err := o.p.checkZValue(z); err != nil {
		return tensor.Dtype{}, nil, err
	}
	if z.Dims() != 2 || z.Shape()[1] != opkit.Groups(o.width, o.p.m) {
		return tensor.Dtype{}, nil, errors.Errorf("z has shape %v, expected (T, %d)", z.Shape(), opkit.Groups(o.width, o.p.m))
	}
	return o.p.Dtype(), tensor.Shape{z.Shape()[0], o.width}, nil
}

func (o *reconstructOp) Compute(xhat *tensor.Dense, in []*tensor.Dense) error {
	switch xd := xhat.Data().(type) {
	case []float64:
		return reconstructWith(xd, zValuesOf[float64](in[0], o.p.z), o.p, o.width)
	case []float32:
		return reconstructWith(xd, zValuesOf[float32](in[0], o.p.z), o.p, o.width)
	}
	return nil
}

func reconstructWith[T opkit.Float](xhat []T, z zValues[T], p *Projection, d int) error {
	v, err := vectorOf[T](p)
	if err != nil {
		return err
	}
	reconstructRows(xhat, z, v, d)
	return nil
}

func (o *reconstructOp) DiffWRT(int) []bool { return []bool{true, false} }

func (o *reconstructOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if err := o.p.checkDifferentiable("Reconstruct"); err != nil {
		return nil, err
	}
	gz, err := compress(grad, o.p, false)
	if err != nil {
		return nil, check.Wrap(err, "op: Reconstruct gradient")
	}
	return gorgonia.Nodes{gz, nil}, nil
}

func (o *reconstructOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if err := o.p.checkDifferentiable("Reconstruct"); err != nil {
		return err
	}
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	return opkit.AddGradient(inputs[0], &compressOp{p: o.p, width: o.width}, g, inputs[1].Value())
}

var (
	_ gorgonia.Op              = (*reconstructOp)(nil)
	_ gorgonia.SDOp            = (*reconstructOp)(nil)
	_ gorgonia.ADOp            = (*reconstructOp)(nil)
	_ gorgonia.UsePreallocDoer = (*reconstructOp)(nil)
)
