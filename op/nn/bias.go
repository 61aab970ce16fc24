package nn

import (
	"hash"
	"io"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/kernel"
	"github.com/velora-go/velora/op/internal/opkit"
)

// AddBias adds a bias to every row: x: (N, D), b: (D) → x + b: (N, D).
// Gradients: g itself for x, Σ_rows g for b. Unlike gorgonia's BroadcastAdd
// it never materialises the broadcast bias.
func AddBias(x, b *gorgonia.Node) (*gorgonia.Node, error) {
	if err := opkit.CheckMatrix(x, "bias input"); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errors.New("op: bias is nil")
	}
	if err := opkit.CheckSameDtype(x, b); err != nil {
		return nil, errors.Wrap(err, "bias")
	}
	if !b.Shape().Eq(tensor.Shape{x.Shape()[1]}) {
		return nil, errors.Errorf("op: bias %q has shape %v, expected (%d) to match input %q of shape %v", b.Name(), b.Shape(), x.Shape()[1], x.Name(), x.Shape())
	}
	return gorgonia.ApplyOp(&biasOp{}, x, b)
}

// biasOp computes x + b from (x, b).
type biasOp struct {
	opkit.Pure
	opkit.Cheap
}

func (o *biasOp) Arity() int { return 2 }

func (o *biasOp) Type() hm.Type {
	return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(2))
}

func (o *biasOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	return opkit.SameShape(o, ds[0])
}

func (o *biasOp) WriteHash(h hash.Hash) { io.WriteString(h, o.String()) }

func (o *biasOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *biasOp) String() string { return "AddBias" }

func (o *biasOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	x, err := opkit.Dense(vs[0])
	if err != nil {
		return nil, errors.Wrapf(err, "%v", o)
	}
	return o.UsePreallocDo(opkit.Zeros(x.Dtype(), x.Shape()...), vs...)
}

func (o *biasOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	ds, err := opkit.Denses(vs)
	if err != nil {
		return nil, errors.Wrapf(err, "%v", o)
	}
	x, b := ds[0], ds[1]
	if x.Dims() != 2 || !b.Shape().Eq(tensor.Shape{x.Shape()[1]}) {
		return nil, errors.Errorf("op: %v: shapes %v and %v, expected (N, D) and (D)", o, x.Shape(), b.Shape())
	}
	out, err := opkit.CheckPrealloc(prealloc, x.Dtype(), x.Shape()...)
	if err != nil {
		return nil, errors.Wrapf(err, "%v", o)
	}
	switch od := out.Data().(type) {
	case []float64:
		kernel.ScaleShiftRows(od, x.Data().([]float64), nil, b.Data().([]float64), x.Shape()[1])
	case []float32:
		kernel.ScaleShiftRows(od, x.Data().([]float32), nil, b.Data().([]float32), x.Shape()[1])
	}
	return out, nil
}

func (o *biasOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *biasOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gb, err := gorgonia.Sum(grad, 0)
	if err != nil {
		return nil, errors.Wrap(err, "bias gradient")
	}
	return gorgonia.Nodes{grad, gb}, nil
}

func (o *biasOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := output.Grad()
	if err != nil {
		return errors.Wrap(err, "bias gradient")
	}
	gd, ok := g.(*tensor.Dense)
	if !ok {
		return errors.Errorf("op: bias gradient is a %T", g)
	}
	if err := opkit.AccumulateGrad(inputs[0], gd); err != nil {
		return err
	}
	gb, err := tensor.Sum(gd, 0)
	if err != nil {
		return errors.Wrap(err, "bias gradient")
	}
	return opkit.AccumulateGrad(inputs[1], gb.(*tensor.Dense))
}

var (
	_ gorgonia.Op              = (*biasOp)(nil)
	_ gorgonia.SDOp            = (*biasOp)(nil)
	_ gorgonia.ADOp            = (*biasOp)(nil)
	_ gorgonia.UsePreallocDoer = (*biasOp)(nil)
)
