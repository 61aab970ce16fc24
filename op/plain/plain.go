// Package plain builds, from gorgonia's own element-wise and matrix ops,
// the compositions that package nn's fused ops (op/nn) replace: RMSNorm, LayerNorm,
// SwiGLU and attention. They are the reference the fused ops are tested
// against and the baseline bench measures their memory against: each keeps
// every temporary gorgonia's backward pass asks for.
//
// Importing plain makes gorgonia (and gorgonia.org/tensor) multiply
// matrices with kernel.BLAS, so that the compositions run on the same GEMM
// as the fused ops they are compared with.
package plain

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/kernel"
)

func init() { gorgonia.Use(kernel.BLAS{}) }

// RMSNorm is x / √(mean(x²) + eps) ⊙ weight: x (N, D), weight (D).
func RMSNorm(x, weight *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	return norm(x, weight, nil, eps)
}

// LayerNorm is (x − μ)/√(var(x) + eps) ⊙ weight + bias per row.
func LayerNorm(x, weight, bias *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	if bias == nil {
		return nil, errors.New("plain: layer norm bias is nil")
	}
	return norm(x, weight, bias, eps)
}

// norm centres x when bias is given (LayerNorm), then scales by the root
// mean square and the weight, and shifts by the bias.
func norm(x, weight, bias *gorgonia.Node, eps float64) (y *gorgonia.Node, err error) {
	defer recoverMust(&err)
	n, d := x.Shape()[0], x.Shape()[1]
	column := func(v *gorgonia.Node) *gorgonia.Node { return gorgonia.Must(gorgonia.Reshape(v, tensor.Shape{n, 1})) }
	row := func(v *gorgonia.Node) *gorgonia.Node { return gorgonia.Must(gorgonia.Reshape(v, tensor.Shape{1, d})) }
	if bias != nil {
		mu := column(gorgonia.Must(gorgonia.Mean(x, 1)))
		x = gorgonia.Must(gorgonia.BroadcastSub(x, mu, nil, []byte{1}))
	}
	meanSq := gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Square(x)), 1))
	std := column(gorgonia.Must(gorgonia.Sqrt(gorgonia.Must(gorgonia.Add(meanSq, scalar(x.Dtype(), eps))))))
	y = gorgonia.Must(gorgonia.BroadcastHadamardDiv(x, std, nil, []byte{1}))
	y = gorgonia.Must(gorgonia.BroadcastHadamardProd(y, row(weight), nil, []byte{0}))
	if bias != nil {
		y = gorgonia.Must(gorgonia.BroadcastAdd(y, row(bias), nil, []byte{0}))
	}
	return y, nil
}

// SwiGLU is a·σ(a) ⊙ b.
func SwiGLU(a, b *gorgonia.Node) (y *gorgonia.Node, err error) {
	defer recoverMust(&err)
	silu := gorgonia.Must(gorgonia.HadamardProd(a, gorgonia.Must(gorgonia.Sigmoid(a))))
	return gorgonia.HadamardProd(silu, b)
}

// Attention is softmax(q kᵀ/√dh + mask) v per head for q, k, v of shape
// (B, T, D): the heads split by Reshape and Transpose, the scores by
// BatchedMatMul, scaled, masked above the diagonal when causal, SoftMax,
// BatchedMatMul by v, the heads merged back: (B, T, D).
func Attention(q, k, v *gorgonia.Node, heads int, causal bool) (o *gorgonia.Node, err error) {
	defer recoverMust(&err)
	s := q.Shape()
	if len(s) != 3 || s[2]%heads != 0 {
		return nil, errors.Errorf("plain: attention input shape %v, expected (B, T, D) with D divisible by %d heads", s, heads)
	}
	b, t, d := s[0], s[1], s[2]
	dh := d / heads
	split := func(n *gorgonia.Node) *gorgonia.Node {
		n = gorgonia.Must(gorgonia.Reshape(n, tensor.Shape{b, t, heads, dh}))
		n = gorgonia.Must(gorgonia.Transpose(n, 0, 2, 1, 3))                      // (B, heads, T, dh)
		return gorgonia.Must(gorgonia.Reshape(n, tensor.Shape{b * heads, t, dh})) // (B·heads, T, dh)
	}
	qs, ks, vs := split(q), split(k), split(v)
	scores := gorgonia.Must(gorgonia.BatchedMatMul(qs, ks, false, true)) // (B·heads, T, T)
	scores = gorgonia.Must(gorgonia.Mul(scores, scalar(q.Dtype(), 1/math.Sqrt(float64(dh)))))
	if causal {
		scores = gorgonia.Must(gorgonia.Add(scores, causalMask(q.Dtype(), b*heads, t)))
	}
	p := gorgonia.Must(gorgonia.SoftMax(scores))
	o = gorgonia.Must(gorgonia.BatchedMatMul(p, vs)) // (B·heads, T, dh)
	o = gorgonia.Must(gorgonia.Reshape(o, tensor.Shape{b, heads, t, dh}))
	o = gorgonia.Must(gorgonia.Transpose(o, 0, 2, 1, 3)) // (B, T, heads, dh)
	return gorgonia.Reshape(o, tensor.Shape{b, t, d})
}

// scalar is a constant x of dtype dt.
func scalar(dt tensor.Dtype, x float64) *gorgonia.Node {
	if dt == tensor.Float32 {
		return gorgonia.NewConstant(float32(x))
	}
	return gorgonia.NewConstant(x)
}

// causalMask is an (n, T, T) constant, −1e9 above the diagonal and 0
// elsewhere: exp(−1e9 + s) is exactly 0 in both dtypes, as with −∞.
func causalMask(dt tensor.Dtype, n, t int) *gorgonia.Node {
	data := make([]float64, n*t*t)
	for b := 0; b < n; b++ {
		for i := 0; i < t; i++ {
			for j := i + 1; j < t; j++ {
				data[(b*t+i)*t+j] = -1e9
			}
		}
	}
	if dt == tensor.Float32 {
		data32 := make([]float32, len(data))
		for i, x := range data {
			data32[i] = float32(x)
		}
		return gorgonia.NewConstant(tensor.New(tensor.WithShape(n, t, t), tensor.WithBacking(data32)))
	}
	return gorgonia.NewConstant(tensor.New(tensor.WithShape(n, t, t), tensor.WithBacking(data)))
}

// recoverMust turns the panic of a gorgonia.Must into the function's error.
func recoverMust(err *error) {
	if r := recover(); r != nil {
		e, ok := r.(error)
		if !ok {
			panic(r)
		}
		*err = check.Wrap(e, "plain")
	}
}
