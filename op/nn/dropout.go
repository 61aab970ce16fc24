package nn

import (
	"fmt"
	"hash"
	"math/rand"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/op/internal/opkit"
)

// Dropout is inverted dropout: every entry of x is zeroed with probability
// p and the others are scaled by 1/(1−p); x: any shape → the same shape.
// Each forward run draws a new mask from a stream seeded by seed. The mask
// is never stored: the gradient op redraws the run's mask from the same
// seed and run number, so the backward pass keeps nothing of the forward.
// p = 0 returns x itself.
func Dropout(x *gorgonia.Node, p float64, seed int64) (*gorgonia.Node, error) {
	if x == nil {
		return nil, errors.New("nn: Dropout input is nil")
	}
	if !(p >= 0 && p < 1) {
		return nil, errors.Errorf("nn: Dropout probability %g, expected a value in [0, 1)", p)
	}
	if err := opkit.CheckFloatDtype(x.Dtype(), "nn: Dropout input"); err != nil {
		return nil, err
	}
	if p == 0 {
		return x, nil
	}
	return gorgonia.ApplyOp(&dropoutOp{dims: x.Dims(), p: p, stream: &dropoutStream{seed: seed}}, x)
}

// dropoutStream numbers the forward runs of one dropout so that the
// backward pass can redraw the mask of the run it differentiates.
type dropoutStream struct {
	seed int64
	run  int64
}

// dropoutOp applies the mask of the current run to its input: the forward
// (grad false, which first starts a new run) and the gradient.
type dropoutOp struct {
	opkit.Pure
	dims   int
	p      float64
	stream *dropoutStream
	grad   bool
}

func (o *dropoutOp) Arity() int { return 1 }

func (o *dropoutOp) Type() hm.Type {
	return hm.NewFnType(opkit.TensorType(o.dims), opkit.TensorType(o.dims))
}

func (o *dropoutOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	return opkit.SameShape(o, ds[0])
}

func (o *dropoutOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", o, o.stream) }

func (o *dropoutOp) Hashcode() uint32 { return opkit.Hash(o) }

// Stateful marks the op as drawing a new mask on every forward run, so that package
// machine never recomputes it (machine.StatefulOp).
func (o *dropoutOp) Stateful() {}

func (o *dropoutOp) String() string {
	return fmt.Sprintf("Dropout{p=%g, seed=%d, grad=%t}", o.p, o.stream.seed, o.grad)
}

func (o *dropoutOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *dropoutOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *dropoutOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	return opkit.Elementwise(in)
}

func (o *dropoutOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	if !o.grad {
		o.stream.run++
	}
	rng := rand.New(rand.NewSource(o.stream.seed ^ o.stream.run*0x5851f42d4c957f2d))
	switch od := out.Data().(type) {
	case []float64:
		applyMask(od, in[0].Data().([]float64), o.p, rng)
	case []float32:
		applyMask(od, in[0].Data().([]float32), o.p, rng)
	}
	return nil
}

// applyMask writes x/(1−p) where a uniform draw is at least p, else 0.
func applyMask[T opkit.Float](out, x []T, p float64, rng *rand.Rand) {
	keep := T(1 / (1 - p))
	for i, xi := range x {
		if rng.Float64() < p {
			out[i] = 0
		} else {
			out[i] = xi * keep
		}
	}
}

func (o *dropoutOp) gradOp() *dropoutOp {
	return &dropoutOp{dims: o.dims, p: o.p, stream: o.stream, grad: true}
}

func (o *dropoutOp) DiffWRT(int) []bool { return []bool{!o.grad} }

func (o *dropoutOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return opkit.SymDiffBy(o, o.gradOp(), grad)
}

func (o *dropoutOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if o.grad {
		return nil
	}
	return opkit.DoDiffBy(o, o.gradOp(), inputs[0], output)
}

var (
	_ gorgonia.Op              = (*dropoutOp)(nil)
	_ gorgonia.SDOp            = (*dropoutOp)(nil)
	_ gorgonia.ADOp            = (*dropoutOp)(nil)
	_ gorgonia.UsePreallocDoer = (*dropoutOp)(nil)
)
