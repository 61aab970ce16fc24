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

// Compress projects every sub-token of x onto the projection's v:
// x: (T, D) → z: (T, ceil(D/M)), z[t,k] = <x[t, kM:(k+1)M], v>, the last
// sub-token of a row zero-padded when M does not divide D.
//
// On every forward pass the projection's strategy sees the batch first (and
// may set v). The gradient with respect to x is Reconstruct of z's
// gradient; v is frozen and gets none. z has the projection's ZDtype: in a
// 16-bit ZFormat it holds rounded bit patterns and has no gradient.
func Compress(x *gorgonia.Node, p *Projection) (*gorgonia.Node, error) {
	return compress(x, p, true)
}

func compress(x *gorgonia.Node, p *Projection, observe bool) (*gorgonia.Node, error) {
	if p == nil {
		return nil, errors.New("op: Compress: projection is nil")
	}
	if err := opkit.CheckMatrix(x, "op: Compress input"); err != nil {
		return nil, err
	}
	if err := opkit.CheckTogether("op: Compress", x, p.V()); err != nil {
		return nil, err
	}
	return gorgonia.ApplyOp(&compressOp{p: p, width: x.Shape()[1], observe: observe}, x, p.V())
}

// compressOp computes z from (x, v). observe is false for the copy that
// differentiates Reconstruct: only real forward batches reach the strategy.
type compressOp struct {
	opkit.Pure
	p       *Projection
	width   int // D
	observe bool
}

func (o *compressOp) Arity() int { return 2 }

func (o *compressOp) Type() hm.Type {
	return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(1), o.p.zType())
}

func (o *compressOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	t, err := ds[0].DimSize(0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{t, opkit.Groups(o.width, o.p.m)}, nil
}

func (o *compressOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *compressOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *compressOp) String() string {
	return fmt.Sprintf("VeLoRACompress{%s, M=%d, D=%d, observe=%t%s}", o.p.node.Name(), o.p.m, o.width, o.observe, zSuffix(o.p))
}

// zSuffix names a 16-bit z format in an op's String (and so its hash).
func zSuffix(p *Projection) string {
	if p.z == ZFull {
		return ""
	}
	return ", z=" + p.z.String()
}

func (o *compressOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *compressOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *compressOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	x := in[0]
	if x.Dims() != 2 || x.Shape()[1] != o.width {
		return tensor.Dtype{}, nil, errors.Errorf("input has shape %v, expected (T, %d)", x.Shape(), o.width)
	}
	if x.Dtype() != o.p.Dtype() {
		return tensor.Dtype{}, nil, errors.Errorf("input has dtype %v and projection %q %v, expected one dtype", x.Dtype(), o.p.node.Name(), o.p.Dtype())
	}
	return o.p.ZDtype(), tensor.Shape{x.Shape()[0], opkit.Groups(o.width, o.p.m)}, nil
}

func (o *compressOp) Compute(z *tensor.Dense, in []*tensor.Dense) error {
	x := in[0]
	if o.observe {
		if err := o.p.observe(x); err != nil {
			return err
		}
	}
	switch xd := x.Data().(type) {
	case []float64:
		return compressWith(zValuesOf[float64](z, o.p.z), xd, o.p, o.width)
	case []float32:
		return compressWith(zValuesOf[float32](z, o.p.z), xd, o.p, o.width)
	}
	return nil
}

func compressWith[T opkit.Float](z zValues[T], x []T, p *Projection, d int) error {
	v, err := vectorOf[T](p)
	if err != nil {
		return err
	}
	compressRows(z, x, v, d)
	return nil
}

func (o *compressOp) DiffWRT(int) []bool { return []bool{true, false} }

func (o *compressOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if err := o.p.checkDifferentiable("Compress"); err != nil {
		return nil, err
	}
	gx, err := reconstruct(grad, o.p, o.width)
	if err != nil {
		return nil, check.Wrap(err, "op: Compress gradient")
	}
	return gorgonia.Nodes{gx, nil}, nil
}

func (o *compressOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if o.p.z != ZFull {
		// LispMachine differentiates every node between x and the cost,
		// Linear's z too, though no reader passes a gradient to it: a reader
		// that would (Reconstruct) refuses a 16-bit z in its own DoDiff.
		return nil
	}
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	return opkit.AddGradient(inputs[0], &reconstructOp{p: o.p, width: o.width}, g, inputs[1].Value())
}

var (
	_ gorgonia.Op              = (*compressOp)(nil)
	_ gorgonia.SDOp            = (*compressOp)(nil)
	_ gorgonia.ADOp            = (*compressOp)(nil)
	_ gorgonia.UsePreallocDoer = (*compressOp)(nil)
)
