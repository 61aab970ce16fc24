package nn

import (
	"hash"
	"io"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/kernel"
	"github.com/velora-go/velora/op/internal/opkit"
)

// AddBias adds a bias to every row: x: (N, D), b: (D) → x + b: (N, D).
// Gradients: g itself for x, Σ_rows g for b. Unlike gorgonia's BroadcastAdd
// it never materialises the broadcast bias.
func AddBias(x, b *gorgonia.Node) (*gorgonia.Node, error) {
	if err := opkit.CheckMatrix(x, "nn: AddBias input"); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errors.New("nn: AddBias: bias is nil")
	}
	if err := opkit.CheckTogether("nn: AddBias", x, b); err != nil {
		return nil, err
	}
	if !b.Shape().Eq(tensor.Shape{x.Shape()[1]}) {
		return nil, errors.Errorf("nn: AddBias: bias %q has shape %v, expected (%d) to match input %q of shape %v", b.Name(), b.Shape(), x.Shape()[1], x.Name(), x.Shape())
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

func (o *biasOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *biasOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *biasOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	dt, err := opkit.SameFloat(in...)
	x, b := in[0], in[1]
	if err == nil && (x.Dims() != 2 || !b.Shape().Eq(tensor.Shape{x.Shape()[1]})) {
		err = errors.Errorf("shapes %v and %v, expected (N, D) and (D)", x.Shape(), b.Shape())
	}
	return dt, x.Shape(), err
}

func (o *biasOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	x, b := in[0], in[1]
	switch od := out.Data().(type) {
	case []float64:
		kernel.ScaleShiftRows(od, x.Data().([]float64), nil, b.Data().([]float64), x.Shape()[1])
	case []float32:
		kernel.ScaleShiftRows(od, x.Data().([]float32), nil, b.Data().([]float32), x.Shape()[1])
	}
	return nil
}

func (o *biasOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *biasOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gb, err := gorgonia.Sum(grad, 0)
	if err != nil {
		return nil, check.Wrap(err, "nn: AddBias gradient")
	}
	return gorgonia.Nodes{grad, gb}, nil
}

func (o *biasOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	gd, ok := g.(*tensor.Dense)
	if !ok {
		return errors.Errorf("nn: AddBias gradient is a %T", g)
	}
	if err := opkit.AccumulateGrad(inputs[0], gd); err != nil {
		return err
	}
	gb, err := tensor.Sum(gd, 0)
	if err != nil {
		return check.Wrap(err, "nn: AddBias gradient")
	}
	return opkit.AccumulateGrad(inputs[1], gb.(*tensor.Dense))
}

var (
	_ gorgonia.Op              = (*biasOp)(nil)
	_ gorgonia.SDOp            = (*biasOp)(nil)
	_ gorgonia.ADOp            = (*biasOp)(nil)
	_ gorgonia.UsePreallocDoer = (*biasOp)(nil)
)
