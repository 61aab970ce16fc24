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

// SwiGLU is LLaMA's gated activation: a, b: (N, F) → silu(a) ⊙ b: (N, F),
// silu(a) = a·σ(a). Its backward keeps a and b only; gorgonia's element-wise
// composition keeps σ(a), silu(a) and their temporaries as well.
func SwiGLU(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	if err := opkit.CheckMatrix(a, "nn: SwiGLU gate"); err != nil {
		return nil, err
	}
	if err := opkit.CheckMatrix(b, "nn: SwiGLU up"); err != nil {
		return nil, err
	}
	if err := opkit.CheckTogether("nn: SwiGLU", a, b); err != nil {
		return nil, err
	}
	if !a.Shape().Eq(b.Shape()) {
		return nil, errors.Errorf("nn: SwiGLU: gate %q has shape %v and up %q has shape %v, expected equal shapes", a.Name(), a.Shape(), b.Name(), b.Shape())
	}
	return gorgonia.ApplyOp(&swigluOp{part: swigluForward}, a, b)
}

// swigluPart says what a swigluOp computes.
type swigluPart int

const (
	swigluForward swigluPart = iota // silu(a) ⊙ b from (a, b)
	swigluGradA                     // g ⊙ b ⊙ silu'(a) from (a, b, g)
	swigluGradB                     // g ⊙ silu(a) from (a, b, g)
)

// swigluOp is SwiGLU's forward and both its gradients: three element-wise
// maps over the same inputs.
type swigluOp struct {
	opkit.Pure
	opkit.Cheap
	part swigluPart
}

func (o *swigluOp) Arity() int {
	if o.part == swigluForward {
		return 2
	}
	return 3
}

func (o *swigluOp) Type() hm.Type {
	if o.part == swigluForward {
		return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2), opkit.TensorType(2))
	}
	return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2), opkit.TensorType(2), opkit.TensorType(2))
}

func (o *swigluOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	return opkit.SameShape(o, ds[0])
}

func (o *swigluOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *swigluOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *swigluOp) String() string {
	return [...]string{"SwiGLU", "SwiGLUGradGate", "SwiGLUGradUp"}[o.part]
}

func (o *swigluOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *swigluOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *swigluOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	return opkit.Elementwise(in)
}

func (o *swigluOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	switch od := out.Data().(type) {
	case []float64:
		swiglu(o.part, od, opkit.Datas[float64](in))
	case []float32:
		swiglu(o.part, od, opkit.Datas[float32](in))
	}
	return nil
}

// swiglu writes one part of SwiGLU for inputs (a, b[, g]), split across
// goroutines.
func swiglu[T opkit.Float](part swigluPart, out []T, in [][]T) {
	a, b := in[0], in[1]
	kernel.ParallelRows(len(a), 1, func(lo, hi int) {
		switch part {
		case swigluForward:
			kernel.SwiGLU(out[lo:hi], a[lo:hi], b[lo:hi])
		case swigluGradA:
			kernel.SwiGLUGradGate(out[lo:hi], a[lo:hi], b[lo:hi], in[2][lo:hi])
		case swigluGradB:
			kernel.SwiGLUGradUp(out[lo:hi], a[lo:hi], in[2][lo:hi])
		}
	})
}

func (o *swigluOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *swigluOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	var grads gorgonia.Nodes
	for _, part := range []swigluPart{swigluGradA, swigluGradB} {
		gi, err := gorgonia.ApplyOp(&swigluOp{part: part}, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, check.Wrap(err, "nn: SwiGLU gradient")
		}
		grads = append(grads, gi)
	}
	return grads, nil
}

func (o *swigluOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	for i, part := range []swigluPart{swigluGradA, swigluGradB} {
		if err := opkit.AddGradient(inputs[i], &swigluOp{part: part}, inputs[0].Value(), inputs[1].Value(), g); err != nil {
			return err
		}
	}
	return nil
}

var (
	_ gorgonia.Op              = (*swigluOp)(nil)
	_ gorgonia.SDOp            = (*swigluOp)(nil)
	_ gorgonia.ADOp            = (*swigluOp)(nil)
	_ gorgonia.UsePreallocDoer = (*swigluOp)(nil)
)
