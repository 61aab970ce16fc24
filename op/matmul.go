package op

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/kernel"
	"github.com/velora-go/velora/op/internal/opkit"
)

// matMulOp computes alpha · op(a) · op(b) for matrices, where op transposes
// its argument when the flag is set. The transpose is a BLAS flag: no
// transposed copy is made. It is the gradient of the linear ops
// (grad_x = g wᵀ, and the reference grad_w = x̂ᵀ g) and FrozenLinear's
// forward. It has no gradient of its own.
type matMulOp struct {
	opkit.Pure
	transA, transB bool
	alpha          float64
}

// matMul applies a matMulOp.
func matMul(a, b *gorgonia.Node, transA, transB bool, alpha float64) (*gorgonia.Node, error) {
	return gorgonia.ApplyOp(&matMulOp{transA: transA, transB: transB, alpha: alpha}, a, b)
}

func (o *matMulOp) Arity() int { return 2 }

func (o *matMulOp) Type() hm.Type {
	return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2), opkit.TensorType(2))
}

// dims returns the rows of op(a), the columns of op(b) and the inner sizes
// of op(a) and op(b).
func (o *matMulOp) dims(a, b tensor.Shape) (m, n, ka, kb int) {
	m, ka = a[0], a[1]
	if o.transA {
		m, ka = ka, m
	}
	kb, n = b[0], b[1]
	if o.transB {
		kb, n = n, kb
	}
	return m, n, ka, kb
}

func (o *matMulOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	a, aok := ds[0].(tensor.Shape)
	b, bok := ds[1].(tensor.Shape)
	if !aok || !bok {
		return nil, opkit.Errorf(o, "input shapes %v and %v, expected matrix shapes", ds[0], ds[1])
	}
	s, err := o.shape(a, b)
	if err != nil {
		return nil, opkit.Errorf(o, "%v", err)
	}
	return s, nil
}

// shape is the result's shape for inputs of shapes a and b.
func (o *matMulOp) shape(a, b tensor.Shape) (tensor.Shape, error) {
	if len(a) != 2 || len(b) != 2 {
		return nil, errors.Errorf("input shapes %v and %v, expected matrices", a, b)
	}
	m, n, ka, kb := o.dims(a, b)
	if ka != kb {
		return nil, errors.Errorf("input shapes %v and %v: inner dimensions %d and %d, expected equal", a, b, ka, kb)
	}
	return tensor.Shape{m, n}, nil
}

func (o *matMulOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *matMulOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *matMulOp) String() string {
	return fmt.Sprintf("Gemm{transA=%t, transB=%t, alpha=%g}", o.transA, o.transB, o.alpha)
}

func (o *matMulOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *matMulOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *matMulOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	dt, err := opkit.SameFloat(in...)
	if err != nil {
		return dt, nil, err
	}
	s, err := o.shape(in[0].Shape(), in[1].Shape())
	return dt, s, err
}

func (o *matMulOp) Compute(c *tensor.Dense, in []*tensor.Dense) error {
	a, b := in[0], in[1]
	m, n, k, _ := o.dims(a.Shape(), b.Shape())
	lda, ldb := a.Shape()[1], b.Shape()[1]
	switch cd := c.Data().(type) {
	case []float64:
		kernel.Gemm(o.transA, o.transB, m, n, k, o.alpha, a.Data().([]float64), lda, b.Data().([]float64), ldb, 0, cd, n)
	case []float32:
		kernel.Gemm(o.transA, o.transB, m, n, k, float32(o.alpha), a.Data().([]float32), lda, b.Data().([]float32), ldb, 0, cd, n)
	}
	return nil
}

var (
	_ gorgonia.Op              = (*matMulOp)(nil)
	_ gorgonia.UsePreallocDoer = (*matMulOp)(nil)
)
