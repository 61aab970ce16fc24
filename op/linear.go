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

// LinearOption configures Linear, WeightGrad and ScaleShift.
type LinearOption func(*linearOp) error

// WithGradScale multiplies the weight gradient by s (the reference
// implementation's velora_scale). Default 1.
func WithGradScale(s float64) LinearOption {
	return func(o *linearOp) error {
		if s <= 0 || s != s || s > 1e300 {
			return errors.Errorf("gradient scale %g, expected a positive finite number", s)
		}
		o.scale = s
		return nil
	}
}

// WithReconstruct computes the weight gradient as x̂ᵀ g through Reconstruct
// instead of the fused op: the reference path the fused one is tested and
// benchmarked against. It builds a (T, D) x̂ in the backward pass.
func WithReconstruct() LinearOption {
	return func(o *linearOp) error {
		o.reconstruct = true
		return nil
	}
}

// Linear is the VeLoRA linear layer: x: (T, D), w: (D, Dout) → x @ w:
// (T, Dout). Its backward pass references z = Compress(x, p), w and v,
// never x: grad_x = g wᵀ is exact and grad_w = x̂ᵀ g is computed from z by
// the fused weight-gradient op.
//
// z is built here and passed to the forward op as an argument, so it is
// computed in the forward pass and x can be freed after its last forward
// reader.
func Linear(x, w *gorgonia.Node, p *Projection, opts ...LinearOption) (*gorgonia.Node, error) {
	if p == nil {
		return nil, errors.New("op: Linear: projection is nil")
	}
	if err := checkLinearInputs("op: Linear", x, w); err != nil {
		return nil, err
	}
	if err := opkit.CheckTogether("op: Linear", x, p.V()); err != nil {
		return nil, err
	}
	o := &linearOp{p: p, scale: 1}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, check.Wrapf(err, "op: Linear %q", w.Name())
		}
	}
	z, err := Compress(x, p)
	if err != nil {
		return nil, err
	}
	return gorgonia.ApplyOp(o, x, z, w, p.V())
}

// linearOp computes x @ w from (x, z, w, v); z and v are arguments only so
// that the backward graph can reference them.
type linearOp struct {
	opkit.Pure
	p           *Projection
	scale       float64
	reconstruct bool
}

func (o *linearOp) Arity() int { return 4 }

func (o *linearOp) Type() hm.Type {
	return hm.NewFnType(opkit.TensorType(2), o.p.zType(), opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(2))
}

func (o *linearOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	t, err := ds[0].DimSize(0)
	if err != nil {
		return nil, err
	}
	dout, err := ds[2].DimSize(1)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{t, dout}, nil
}

func (o *linearOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *linearOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *linearOp) String() string {
	return fmt.Sprintf("VeLoRALinear{%s, M=%d, scale=%g, reconstruct=%t%s}", o.p.node.Name(), o.p.m, o.scale, o.reconstruct, zSuffix(o.p))
}

// product is the forward x @ w.
func (o *linearOp) product() *matMulOp { return &matMulOp{alpha: 1} }

func (o *linearOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	return o.product().Do(vs[0], vs[2])
}

func (o *linearOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return o.product().UsePreallocDo(prealloc, vs[0], vs[2])
}

func (o *linearOp) DiffWRT(int) []bool { return []bool{true, false, true, false} }

func (o *linearOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	x, z, w := inputs[0], inputs[1], inputs[2]
	gx, err := matMul(grad, w, false, true, 1)
	if err != nil {
		return nil, check.Wrapf(err, "op: Linear %q input gradient", w.Name())
	}
	gw, err := o.weightGrad(z, grad, x.Shape()[1])
	if err != nil {
		return nil, check.Wrapf(err, "op: Linear %q weight gradient", w.Name())
	}
	return gorgonia.Nodes{gx, nil, gw, nil}, nil
}

// WeightGrad is the weight gradient Linear's backward pass builds, as an
// op of its own (for benchmarks and custom backward graphs): z: (T, K) =
// Compress(x, p) of the projection's ZDtype, g: (T, Dout) the output
// gradient → grad_w: (width, Dout), width being x's D. By default the
// fused op; WithReconstruct builds x̂ and multiplies; WithGradScale scales
// it.
func WeightGrad(z, g *gorgonia.Node, p *Projection, width int, opts ...LinearOption) (*gorgonia.Node, error) {
	if p == nil {
		return nil, errors.New("op: WeightGrad: projection is nil")
	}
	if err := checkZ(z, p); err != nil {
		return nil, check.Wrap(err, "op: WeightGrad")
	}
	if err := opkit.CheckMatrix(g, "op: WeightGrad output gradient"); err != nil {
		return nil, err
	}
	if err := opkit.CheckTogether("op: WeightGrad", g, p.V()); err != nil {
		return nil, err
	}
	o := &linearOp{p: p, scale: 1}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, check.Wrap(err, "op: WeightGrad")
		}
	}
	if k := opkit.Groups(width, p.m); z.Shape()[1] != k || z.Shape()[0] != g.Shape()[0] {
		return nil, errors.Errorf("op: WeightGrad: z %v and g %v, expected (T, %d) and (T, Dout) for width %d", z.Shape(), g.Shape(), k, width)
	}
	return o.weightGrad(z, g, width)
}

// weightGrad builds grad_w from z and the output gradient g, fused or
// through x̂.
func (o *linearOp) weightGrad(z, g *gorgonia.Node, width int) (*gorgonia.Node, error) {
	if !o.reconstruct {
		return gorgonia.ApplyOp(&weightGradOp{p: o.p, width: width, scale: o.scale}, z, g, o.p.V())
	}
	xhat, err := reconstruct(z, o.p, width)
	if err != nil {
		return nil, err
	}
	return matMul(xhat, g, true, false, o.scale)
}

func (o *linearOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	x, z, w, v := inputs[0], inputs[1], inputs[2], inputs[3]
	if err := opkit.AddGradient(x, &matMulOp{transB: true, alpha: 1}, g, w.Value()); err != nil {
		return err
	}
	var gw gorgonia.Value
	width := x.Shape()[1]
	if o.reconstruct {
		var xhat gorgonia.Value
		if xhat, err = (&reconstructOp{p: o.p, width: width}).Do(z.Value(), v.Value()); err == nil {
			gw, err = (&matMulOp{transA: true, alpha: o.scale}).Do(xhat, g)
		}
	} else {
		gw, err = (&weightGradOp{p: o.p, width: width, scale: o.scale}).Do(z.Value(), g, v.Value())
	}
	if err != nil {
		return check.Wrap(err, "op: Linear weight gradient")
	}
	return opkit.AccumulateGrad(w, gw.(*tensor.Dense))
}

var (
	_ gorgonia.Op              = (*linearOp)(nil)
	_ gorgonia.SDOp            = (*linearOp)(nil)
	_ gorgonia.ADOp            = (*linearOp)(nil)
	_ gorgonia.UsePreallocDoer = (*linearOp)(nil)
)
