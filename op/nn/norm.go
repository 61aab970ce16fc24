package nn

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op/internal/opkit"
)

// RMSNorm is LLaMA's normalisation: x: (N, D), weight: (D) →
// x / rms(x) ⊙ weight: (N, D), rms(x) = √(mean(x²) + eps) per row. Its
// backward keeps x, weight and 1/rms per row (N) only.
func RMSNorm(x, weight *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	return normalize(x, weight, nil, eps, false)
}

// LayerNorm normalises each row to zero mean and unit variance, then scales
// and shifts it: x: (N, D), weight, bias: (D) → (x − μ)/σ ⊙ weight + bias,
// σ = √(var(x) + eps) per row (biased variance, as PyTorch). Its backward
// keeps x, weight and (μ, 1/σ) per row (N, 2) only.
func LayerNorm(x, weight, bias *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	if bias == nil {
		return nil, errors.New("nn: LayerNorm: bias is nil")
	}
	return normalize(x, weight, bias, eps, true)
}

// normalize builds the statistics node and the normalisation over it.
func normalize(x, weight, bias *gorgonia.Node, eps float64, center bool) (*gorgonia.Node, error) {
	kind := normKind{center: center, eps: eps}
	if err := opkit.CheckMatrix(x, "nn: "+kind.String()+" input"); err != nil {
		return nil, err
	}
	if !(eps >= 0) || math.IsInf(eps, 0) {
		return nil, errors.Errorf("nn: %v: eps %g, expected a finite number ≥ 0", kind, eps)
	}
	params := gorgonia.Nodes{weight}
	if bias != nil {
		params = append(params, bias)
	}
	for _, p := range params {
		if p == nil {
			return nil, errors.Errorf("nn: %v: weight is nil", kind)
		}
		if err := opkit.CheckTogether("nn: "+kind.String(), x, p); err != nil {
			return nil, err
		}
		if !p.Shape().Eq(tensor.Shape{x.Shape()[1]}) {
			return nil, errors.Errorf("nn: %v: %q has shape %v, expected (%d), the width of input %q %v", kind, p.Name(), p.Shape(), x.Shape()[1], x.Name(), x.Shape())
		}
	}
	stats, err := gorgonia.ApplyOp(&normOp{kind: kind, part: normStats}, x)
	if err != nil {
		return nil, check.Wrap(err, "nn: "+kind.String())
	}
	return gorgonia.ApplyOp(&normOp{kind: kind, part: normForward}, append(gorgonia.Nodes{x, stats}, params...)...)
}

// normKind is RMSNorm (center false) or LayerNorm (center true) with its eps.
type normKind struct {
	center bool
	eps    float64
}

func (k normKind) String() string {
	if k.center {
		return fmt.Sprintf("LayerNorm{eps=%g}", k.eps)
	}
	return fmt.Sprintf("RMSNorm{eps=%g}", k.eps)
}

// normPart says what a normOp computes.
type normPart int

const (
	normStats   normPart = iota // x → (N, 2): μ (0 for RMSNorm) and 1/σ per row
	normForward                 // (x, stats, weight[, bias]) → y
	normGradX                   // (x, stats, weight, g) → grad_x
	normGradW                   // (x, stats, weight, g) → grad_weight
)

// normOp is one part of RMSNorm or LayerNorm. The statistics are a forward
// node of their own, so the backward parts read them instead of x's
// normalised copy.
type normOp struct {
	opkit.Pure
	opkit.Cheap
	kind normKind
	part normPart
}

func (o *normOp) Arity() int {
	switch {
	case o.part == normStats:
		return 1
	case o.part == normForward && !o.kind.center:
		return 3
	}
	return 4
}

func (o *normOp) Type() hm.Type {
	switch o.part {
	case normStats:
		return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2))
	case normGradW:
		return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(2), opkit.TensorType(1))
	case normGradX:
		return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(2), opkit.TensorType(2))
	}
	if o.kind.center {
		return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(1), opkit.TensorType(2))
	}
	return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(2))
}

func (o *normOp) shape(x tensor.Shape) tensor.Shape {
	switch o.part {
	case normStats:
		return tensor.Shape{x[0], 2}
	case normGradW:
		return tensor.Shape{x[1]}
	}
	return x.Clone()
}

func (o *normOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := ds[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, opkit.Errorf(o, "input shape %v, expected (N, D)", ds[0])
	}
	return o.shape(s), nil
}

func (o *normOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *normOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *normOp) String() string {
	return fmt.Sprintf("%v.%s", o.kind, [...]string{"Stats", "Forward", "GradX", "GradWeight"}[o.part])
}

func (o *normOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *normOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *normOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	return opkit.Shaped(in, o.checkValues, o.shape)
}

func (o *normOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	switch od := out.Data().(type) {
	case []float64:
		normRows(o, od, opkit.Datas[float64](in), in[0].Shape()[1])
	case []float32:
		normRows(o, od, opkit.Datas[float32](in), in[0].Shape()[1])
	}
	return nil
}

// checkValues checks the shapes of (x[, stats, weight, bias or g]).
func (o *normOp) checkValues(ds []*tensor.Dense) error {
	x := ds[0].Shape()
	if len(x) != 2 {
		return errors.Errorf("input shape %v, expected (N, D)", x)
	}
	want := []tensor.Shape{x, {x[0], 2}, {x[1]}, {x[1]}}
	if o.part == normGradX || o.part == normGradW {
		want[3] = x
	}
	for i, d := range ds[1:] {
		if !d.Shape().Eq(want[i+1]) {
			return errors.Errorf("input %d has shape %v, expected %v", i+1, d.Shape(), want[i+1])
		}
	}
	return nil
}

// normRows computes one part row by row, accumulating in float64. With
// x̂ = (x − μ)/σ and h = g ⊙ weight:
// grad_x = (h − mean(h)·[center] − x̂·mean(h ⊙ x̂)) / σ and
// grad_weight = Σ_rows g ⊙ x̂.
func normRows[T opkit.Float](o *normOp, out []T, in [][]T, d int) {
	x := in[0]
	rows := len(x) / d
	if o.part == normGradW {
		clear(out)
	}
	for r := 0; r < rows; r++ {
		row := x[r*d : (r+1)*d]
		if o.part == normStats {
			mu, rstd := rowStats(row, o.kind)
			out[2*r], out[2*r+1] = T(mu), T(rstd)
			continue
		}
		mu, rstd := float64(in[1][2*r]), float64(in[1][2*r+1])
		w := in[2]
		switch o.part {
		case normForward:
			orow := out[r*d : (r+1)*d]
			for j, xj := range row {
				orow[j] = T((float64(xj)-mu)*rstd) * w[j]
			}
			if o.kind.center {
				for j, bj := range in[3] {
					orow[j] += bj
				}
			}
		case normGradW:
			g := in[3][r*d : (r+1)*d]
			for j, xj := range row {
				out[j] += g[j] * T((float64(xj)-mu)*rstd)
			}
		case normGradX:
			g, orow := in[3][r*d:(r+1)*d], out[r*d:(r+1)*d]
			var meanH, meanHX float64
			for j, xj := range row {
				h := float64(g[j] * w[j])
				meanH += h
				meanHX += h * (float64(xj) - mu) * rstd
			}
			meanH /= float64(d)
			meanHX /= float64(d)
			if !o.kind.center {
				meanH = 0
			}
			for j, xj := range row {
				h := float64(g[j] * w[j])
				orow[j] = T((h - meanH - (float64(xj)-mu)*rstd*meanHX) * rstd)
			}
		}
	}
}

// rowStats returns μ (0 without centering) and 1/σ of one row.
func rowStats[T opkit.Float](row []T, k normKind) (mu, rstd float64) {
	n := float64(len(row))
	if k.center {
		for _, x := range row {
			mu += float64(x)
		}
		mu /= n
	}
	var ss float64
	for _, x := range row {
		ss += (float64(x) - mu) * (float64(x) - mu)
	}
	return mu, 1 / math.Sqrt(ss/n+k.eps)
}

func (o *normOp) DiffWRT(int) []bool {
	if o.part != normForward {
		return make([]bool, o.Arity()) // gradients are not differentiated again
	}
	if o.kind.center {
		return []bool{true, false, true, true}
	}
	return []bool{true, false, true}
}

func (o *normOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	x, stats, w := inputs[0], inputs[1], inputs[2]
	gx, err := gorgonia.ApplyOp(&normOp{kind: o.kind, part: normGradX}, x, stats, w, grad)
	if err != nil {
		return nil, check.Wrapf(err, "nn: %v input gradient", o.kind)
	}
	gw, err := gorgonia.ApplyOp(&normOp{kind: o.kind, part: normGradW}, x, stats, w, grad)
	if err != nil {
		return nil, check.Wrapf(err, "nn: %v weight gradient", o.kind)
	}
	grads := gorgonia.Nodes{gx, nil, gw}
	if o.kind.center {
		gb, err := gorgonia.Sum(grad, 0)
		if err != nil {
			return nil, check.Wrapf(err, "nn: %v bias gradient", o.kind)
		}
		grads = append(grads, gb)
	}
	return grads, nil
}

func (o *normOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if o.part != normForward {
		return nil // the statistics pass no gradient: grad_x accounts for them
	}
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	vs := append(opkit.NodeValues(inputs[:3]), g)
	for _, p := range []struct {
		input int
		part  normPart
	}{{0, normGradX}, {2, normGradW}} {
		if err := opkit.AddGradient(inputs[p.input], &normOp{kind: o.kind, part: p.part}, vs...); err != nil {
			return err
		}
	}
	if !o.kind.center {
		return nil
	}
	gb, err := tensor.Sum(g.(tensor.Tensor), 0)
	if err != nil {
		return check.Wrapf(err, "nn: %v bias gradient", o.kind)
	}
	return opkit.AccumulateGrad(inputs[3], gb.(*tensor.Dense))
}

var (
	_ gorgonia.Op              = (*normOp)(nil)
	_ gorgonia.SDOp            = (*normOp)(nil)
	_ gorgonia.ADOp            = (*normOp)(nil)
	_ gorgonia.UsePreallocDoer = (*normOp)(nil)
)
