package nn

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

// GELU is the exact Gaussian error linear unit of ViT's MLP (PyTorch's
// nn.GELU default): x: any shape → x·Φ(x) = ½x(1 + erf(x/√2)). Its backward
// keeps x only.
func GELU(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil {
		return nil, errors.New("nn: GELU input is nil")
	}
	if err := opkit.CheckFloatDtype(x.Dtype(), "nn: GELU input"); err != nil {
		return nil, err
	}
	return gorgonia.ApplyOp(&geluOp{dims: x.Dims()}, x)
}

// geluOp is GELU (grad false, input x) or its gradient g·GELU'(x) (grad
// true, inputs x and g).
type geluOp struct {
	opkit.Pure
	opkit.Cheap
	dims int
	grad bool
}

func (o *geluOp) Arity() int {
	if o.grad {
		return 2
	}
	return 1
}

func (o *geluOp) Type() hm.Type {
	if o.grad {
		return hm.NewFnType(opkit.TensorType(o.dims), opkit.TensorType(o.dims), opkit.TensorType(o.dims))
	}
	return hm.NewFnType(opkit.TensorType(o.dims), opkit.TensorType(o.dims))
}

func (o *geluOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	return opkit.SameShape(o, ds[0])
}

func (o *geluOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *geluOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *geluOp) String() string {
	if o.grad {
		return "GELUGrad"
	}
	return "GELU"
}

func (o *geluOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *geluOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *geluOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	return opkit.Elementwise(in)
}

func (o *geluOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	switch od := out.Data().(type) {
	case []float64:
		gelu(od, opkit.Datas[float64](in))
	case []float32:
		gelu(od, opkit.Datas[float32](in))
	}
	return nil
}

// gelu writes GELU(x), or g·GELU'(x) when a gradient g is given, split
// across goroutines.
func gelu[T opkit.Float](out []T, in [][]T) {
	kernel.ParallelRows(len(out), 1, func(lo, hi int) {
		if len(in) == 1 {
			kernel.GELU(out[lo:hi], in[0][lo:hi])
			return
		}
		kernel.GELUGrad(out[lo:hi], in[0][lo:hi], in[1][lo:hi])
	})
}

func (o *geluOp) DiffWRT(int) []bool {
	if o.grad {
		return []bool{false, false}
	}
	return []bool{true}
}

func (o *geluOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gx, err := gorgonia.ApplyOp(&geluOp{dims: o.dims, grad: true}, inputs[0], grad)
	if err != nil {
		return nil, check.Wrap(err, "nn: GELU gradient")
	}
	return gorgonia.Nodes{gx}, nil
}

func (o *geluOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if o.grad {
		return nil
	}
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	return opkit.AddGradient(inputs[0], &geluOp{dims: o.dims, grad: true}, inputs[0].Value(), g)
}

var (
	_ gorgonia.Op              = (*geluOp)(nil)
	_ gorgonia.SDOp            = (*geluOp)(nil)
	_ gorgonia.ADOp            = (*geluOp)(nil)
	_ gorgonia.UsePreallocDoer = (*geluOp)(nil)
)
