package op

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/op/internal/opkit"
)

// weightGradOp is VeLoRA's fused weight gradient: from (z, g, v) with
// z: (T, K), g: (T, Dout) it computes grad_w: (D, Dout),
// grad_w[kM+m, j] = scale · v[m] · (zᵀ g)[k, j]. This equals x̂ᵀ g with
// x̂ = Reconstruct(z) but costs K·T·Dout multiply-adds instead of D·T·Dout
// and never allocates x̂. A 16-bit z is widened as it is read.
type weightGradOp struct {
	opkit.Pure
	p     *Projection
	width int // D
	scale float64
}

func (o *weightGradOp) Arity() int { return 3 }

func (o *weightGradOp) Type() hm.Type {
	return hm.NewFnType(o.p.zType(), opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(2))
}

func (o *weightGradOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	dout, err := ds[1].DimSize(1)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{o.width, dout}, nil
}

func (o *weightGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *weightGradOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *weightGradOp) String() string {
	return fmt.Sprintf("VeLoRAWeightGrad{%s, M=%d, D=%d, scale=%g%s}", o.p.node.Name(), o.p.m, o.width, o.scale, zSuffix(o.p))
}

func (o *weightGradOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *weightGradOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *weightGradOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	z, g := in[0], in[1]
	if err := o.p.checkZAndGrad(z, g); err != nil {
		return tensor.Dtype{}, nil, err
	}
	k := opkit.Groups(o.width, o.p.m)
	if z.Dims() != 2 || g.Dims() != 2 || z.Shape()[1] != k || z.Shape()[0] != g.Shape()[0] {
		return tensor.Dtype{}, nil, errors.Errorf("z %v and g %v, expected (T, %d) and (T, Dout)", z.Shape(), g.Shape(), k)
	}
	return g.Dtype(), tensor.Shape{o.width, g.Shape()[1]}, nil
}

func (o *weightGradOp) Compute(gw *tensor.Dense, in []*tensor.Dense) error {
	z, g := in[0], in[1]
	switch gwd := gw.Data().(type) {
	case []float64:
		return weightGradWith(gwd, zValuesOf[float64](z, o.p.z), g.Data().([]float64), g.Shape()[1], o)
	case []float32:
		return weightGradWith(gwd, zValuesOf[float32](z, o.p.z), g.Data().([]float32), g.Shape()[1], o)
	}
	return nil
}

func weightGradWith[T opkit.Float](gw []T, z zValues[T], g []T, dout int, o *weightGradOp) error {
	v, err := vectorOf[T](o.p)
	if err != nil {
		return err
	}
	weightGradRows(gw, z, g, v, o.width, dout, T(o.scale))
	return nil
}

var (
	_ gorgonia.Op              = (*weightGradOp)(nil)
	_ gorgonia.UsePreallocDoer = (*weightGradOp)(nil)
)
