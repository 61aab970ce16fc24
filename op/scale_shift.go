package op

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

// ScaleShift is SSF's scale and shift (Lian et al., arXiv 2210.08823) and
// its VeLoRA variant: x: (T, D), w and b: (D) → x ⊙ w + b: (T, D), w and b
// broadcast over the tokens. grad_x = g ⊙ w and grad_b = Σ_t g are exact.
// With a projection p the backward references z = Compress(x, p) instead of
// x and grad_w = scale · Σ_t g ⊙ x̂ is computed from z without building x̂;
// with p nil it keeps x and grad_w = Σ_t g ⊙ x.
//
// WithGradScale sets scale (default 1), the reference implementation's
// velora_scale: its VeLoRAScaleAndShift multiplies the scale's gradient
// only, as Linear multiplies only the weight gradient. It needs a
// projection; WithReconstruct does not apply (grad_w never builds x̂).
func ScaleShift(x, w, b *gorgonia.Node, p *Projection, opts ...LinearOption) (*gorgonia.Node, error) {
	if err := opkit.CheckMatrix(x, "op: ScaleShift input"); err != nil {
		return nil, err
	}
	scale, err := scaleShiftGradScale(p, opts)
	if err != nil {
		return nil, err
	}
	d := x.Shape()[1]
	for _, n := range []*gorgonia.Node{w, b} {
		if n == nil {
			return nil, errors.New("op: ScaleShift: weight or bias is nil")
		}
		if err := opkit.CheckTogether("op: ScaleShift", x, n); err != nil {
			return nil, err
		}
		if !n.Shape().Eq(tensor.Shape{d}) {
			return nil, errors.Errorf("op: ScaleShift: %q has shape %v, expected (%d) to match input %q of shape %v", n.Name(), n.Shape(), d, x.Name(), x.Shape())
		}
	}
	if p == nil {
		return gorgonia.ApplyOp(&scaleShiftOp{scale: 1}, x, w, b)
	}
	z, err := Compress(x, p)
	if err != nil {
		return nil, check.Wrapf(err, "op: ScaleShift %q", w.Name())
	}
	return gorgonia.ApplyOp(&scaleShiftOp{p: p, scale: scale}, x, w, b, z, p.V())
}

// scaleShiftGradScale reads ScaleShift's options: the gradient scale, which
// only a projection takes, and no reconstruct path.
func scaleShiftGradScale(p *Projection, opts []LinearOption) (float64, error) {
	o := &linearOp{p: p, scale: 1}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return 0, check.Wrap(err, "op: ScaleShift")
		}
	}
	switch {
	case o.reconstruct:
		return 0, errors.New("op: ScaleShift: WithReconstruct does not apply: its scale gradient never builds x̂")
	case p == nil && o.scale != 1:
		return 0, errors.Errorf("op: ScaleShift: gradient scale %g without a projection, expected one (the scale multiplies the compressed gradient)", o.scale)
	}
	return o.scale, nil
}

// scaleShiftOp computes x ⊙ w + b from (x, w, b), followed by (z, v) when
// it has a projection; scale multiplies the compressed grad_w.
type scaleShiftOp struct {
	opkit.Pure
	opkit.Cheap
	p     *Projection
	scale float64
}

func (o *scaleShiftOp) Arity() int {
	if o.p == nil {
		return 3
	}
	return 5
}

func (o *scaleShiftOp) Type() hm.Type {
	if o.p == nil {
		return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(1), opkit.TensorType(2))
	}
	return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(1), o.p.zType(), opkit.TensorType(1), opkit.TensorType(2))
}

func (o *scaleShiftOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	return opkit.SameShape(o, ds[0])
}

func (o *scaleShiftOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *scaleShiftOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *scaleShiftOp) String() string {
	if o.p == nil {
		return "ScaleShift"
	}
	return fmt.Sprintf("VeLoRAScaleShift{%s, M=%d, scale=%g%s}", o.p.node.Name(), o.p.m, o.scale, zSuffix(o.p))
}

func (o *scaleShiftOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	return columnScale(true).Do(vs[:3]...)
}

func (o *scaleShiftOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return columnScale(true).UsePreallocDo(prealloc, vs[:3]...)
}

func (o *scaleShiftOp) DiffWRT(int) []bool {
	if o.p == nil {
		return []bool{true, true, true}
	}
	return []bool{true, true, true, false, false}
}

// weightGradArgs are the arguments of the weight gradient besides g: (x)
// without a projection, (z, v) with one.
func (o *scaleShiftOp) weightGradArgs(inputs gorgonia.Nodes) gorgonia.Nodes {
	if o.p == nil {
		return inputs[:1]
	}
	return inputs[3:]
}

// weightGrad is the op computing grad_w for input x.
func (o *scaleShiftOp) weightGrad(x *gorgonia.Node) *scaleGradOp {
	return &scaleGradOp{p: o.p, width: x.Shape()[1], scale: o.scale}
}

func (o *scaleShiftOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gx, err := gorgonia.ApplyOp(columnScale(false), grad, inputs[1])
	if err != nil {
		return nil, check.Wrap(err, "op: ScaleShift input gradient")
	}
	args := o.weightGradArgs(inputs)
	gw, err := gorgonia.ApplyOp(o.weightGrad(inputs[0]), append(gorgonia.Nodes{args[0], grad}, args[1:]...)...)
	if err != nil {
		return nil, check.Wrap(err, "op: ScaleShift weight gradient")
	}
	gb, err := gorgonia.Sum(grad, 0)
	if err != nil {
		return nil, check.Wrap(err, "op: ScaleShift bias gradient")
	}
	return append(gorgonia.Nodes{gx, gw, gb}, make(gorgonia.Nodes, len(inputs)-3)...), nil
}

func (o *scaleShiftOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	x, w, b := inputs[0], inputs[1], inputs[2]
	gx, err := columnScale(false).Do(g, w.Value())
	if err != nil {
		return err
	}
	args := opkit.NodeValues(o.weightGradArgs(inputs))
	gw, err := o.weightGrad(x).Do(append([]gorgonia.Value{args[0], g}, args[1:]...)...)
	if err != nil {
		return err
	}
	gb, err := tensor.Sum(g.(tensor.Tensor), 0)
	if err != nil {
		return check.Wrap(err, "op: ScaleShift bias gradient")
	}
	if err := opkit.AccumulateGrad(x, gx.(*tensor.Dense)); err != nil {
		return err
	}
	if err := opkit.AccumulateGrad(w, gw.(*tensor.Dense)); err != nil {
		return err
	}
	return opkit.AccumulateGrad(b, gb.(*tensor.Dense))
}

// columnScaleOp computes a ⊙ w (+ b when shift is set) for a: (T, D) and
// w, b: (D) broadcast over rows: ScaleShift's forward and its input
// gradient g ⊙ w.
type columnScaleOp struct {
	opkit.Pure
	shift bool
}

func columnScale(shift bool) *columnScaleOp { return &columnScaleOp{shift: shift} }

func (o *columnScaleOp) Arity() int {
	if o.shift {
		return 3
	}
	return 2
}

func (o *columnScaleOp) Type() hm.Type {
	if o.shift {
		return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(1), opkit.TensorType(2))
	}
	return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(2))
}

func (o *columnScaleOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	return opkit.SameShape(o, ds[0])
}

func (o *columnScaleOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *columnScaleOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *columnScaleOp) String() string { return fmt.Sprintf("ColumnScale{shift=%t}", o.shift) }

func (o *columnScaleOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, nil, vs)
}

func (o *columnScaleOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *columnScaleOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	dt, err := opkit.SameFloat(in...)
	if err != nil {
		return dt, nil, err
	}
	a := in[0]
	for _, c := range in[1:] {
		if a.Dims() != 2 || c.Dims() != 1 || c.Shape()[0] != a.Shape()[1] {
			return dt, nil, errors.Errorf("shapes %v and %v, expected (T, D) and (D)", a.Shape(), c.Shape())
		}
	}
	return dt, a.Shape(), nil
}

func (o *columnScaleOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	a := in[0]
	switch od := out.Data().(type) {
	case []float64:
		kernel.ScaleShiftRows(od, a.Data().([]float64), in[1].Data().([]float64), shiftOf[float64](in), a.Shape()[1])
	case []float32:
		kernel.ScaleShiftRows(od, a.Data().([]float32), in[1].Data().([]float32), shiftOf[float32](in), a.Shape()[1])
	}
	return nil
}

// shiftOf returns the bias among the inputs, nil when there is none.
func shiftOf[T opkit.Float](ds []*tensor.Dense) []T {
	if len(ds) < 3 {
		return nil
	}
	return ds[2].Data().([]T)
}

// scaleGradOp is ScaleShift's weight gradient from (z, g, v):
// grad_w[kM+m] = scale · v[m] · Σ_t g[t, kM+m]·z[t, k] = scale · Σ_t (g ⊙
// x̂)[t, kM+m]; without a projection, from (x, g): Σ_t g ⊙ x, the same sum
// with M = 1, v = (1) and scale 1.
type scaleGradOp struct {
	opkit.Pure
	p     *Projection
	width int // D
	scale float64
}

func (o *scaleGradOp) Arity() int {
	if o.p == nil {
		return 2
	}
	return 3
}

func (o *scaleGradOp) Type() hm.Type {
	if o.p == nil {
		return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2), opkit.TensorType(1))
	}
	return hm.NewFnType(o.p.zType(), opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(1))
}

func (o *scaleGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.width}, nil
}

func (o *scaleGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *scaleGradOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *scaleGradOp) String() string {
	if o.p == nil {
		return fmt.Sprintf("ScaleGrad{D=%d}", o.width)
	}
	return fmt.Sprintf("VeLoRAScaleGrad{%s, M=%d, D=%d, scale=%g%s}", o.p.node.Name(), o.p.m, o.width, o.scale, zSuffix(o.p))
}

// m is the sub-token size, 1 without a projection.
func (o *scaleGradOp) m() int {
	if o.p == nil {
		return 1
	}
	return o.p.m
}

func (o *scaleGradOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *scaleGradOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *scaleGradOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	z, g := in[0], in[1]
	if err := o.checkInputs(z, g); err != nil {
		return tensor.Dtype{}, nil, err
	}
	k := opkit.Groups(o.width, o.m())
	if z.Dims() != 2 || g.Dims() != 2 || z.Shape()[1] != k || g.Shape()[1] != o.width || z.Shape()[0] != g.Shape()[0] {
		return tensor.Dtype{}, nil, errors.Errorf("z %v and g %v, expected (T, %d) and (T, %d)", z.Shape(), g.Shape(), k, o.width)
	}
	return g.Dtype(), tensor.Shape{o.width}, nil
}

func (o *scaleGradOp) Compute(gw *tensor.Dense, in []*tensor.Dense) error {
	z, g := in[0], in[1]
	switch gwd := gw.Data().(type) {
	case []float64:
		return scaleGradWith(gwd, zValuesOf[float64](z, o.format()), g.Data().([]float64), o.p, o.scale)
	case []float32:
		return scaleGradWith(gwd, zValuesOf[float32](z, o.format()), g.Data().([]float32), o.p, float32(o.scale))
	}
	return nil
}

// checkInputs checks the values the gradient reads: z as the projection
// keeps it, or x without a projection, and the output gradient g.
func (o *scaleGradOp) checkInputs(z, g *tensor.Dense) error {
	if o.p != nil {
		return o.p.checkZAndGrad(z, g)
	}
	_, err := opkit.SameFloat(z, g)
	return err
}

// format is how z is kept: x, without a projection, is in full.
func (o *scaleGradOp) format() ZFormat {
	if o.p == nil {
		return ZFull
	}
	return o.p.z
}

func scaleGradWith[T opkit.Float](gw []T, z zValues[T], g []T, p *Projection, scale T) error {
	v := []T{1}
	if p != nil {
		var err error
		if v, err = vectorOf[T](p); err != nil {
			return err
		}
	}
	d, m := len(gw), len(v)
	k := opkit.Groups(d, m)
	clear(gw)
	buf := z.buffer(1, k)
	for t := 0; t*d < len(g); t++ {
		grow, zrow := g[t*d:(t+1)*d], z.rows(t, t+1, k, buf)
		for j, gj := range grow {
			gw[j] += gj * zrow[j/m]
		}
	}
	z.release(buf)
	for j := range gw {
		gw[j] *= scale * v[j%m]
	}
	return nil
}

var (
	_ gorgonia.Op              = (*scaleShiftOp)(nil)
	_ gorgonia.SDOp            = (*scaleShiftOp)(nil)
	_ gorgonia.ADOp            = (*scaleShiftOp)(nil)
	_ gorgonia.UsePreallocDoer = (*scaleShiftOp)(nil)
	_ gorgonia.Op              = (*columnScaleOp)(nil)
	_ gorgonia.UsePreallocDoer = (*columnScaleOp)(nil)
	_ gorgonia.Op              = (*scaleGradOp)(nil)
	_ gorgonia.UsePreallocDoer = (*scaleGradOp)(nil)
)
