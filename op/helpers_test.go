package op

import (
	"math"
	"math/rand"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
)

// randomDense returns a tensor of the given shape with standard normal
// entries drawn from rng.
func randomDense(rng *rand.Rand, dt tensor.Dtype, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	switch dt {
	case tensor.Float32:
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	default:
		data := make([]float64, n)
		for i := range data {
			data[i] = rng.NormFloat64()
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	}
}

// float64s returns a value's data as float64s (a copy for float32).
func float64s(t testing.TB, v gorgonia.Value) []float64 {
	t.Helper()
	if v == nil {
		t.Fatal("value is nil")
	}
	switch d := v.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	}
	t.Fatalf("unexpected data %T", v.Data())
	return nil
}

// closeTo fails unless got and want agree to tol, relative to the larger of
// 1 and the biggest magnitude in want.
func closeTo(t testing.TB, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 1.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*scale) {
			t.Fatalf("%s[%d] = %.15g, want %.15g (difference %.3g, tolerance %.3g)", what, i, got[i], want[i], d, tol*scale)
		}
	}
}

// input adds a matrix or vector variable holding a copy of value to g.
func input(g *gorgonia.ExprGraph, name string, value *tensor.Dense) *gorgonia.Node {
	v := value.Clone().(*tensor.Dense)
	if v.Dims() == 1 {
		return gorgonia.NewVector(g, v.Dtype(), gorgonia.WithShape(v.Shape()...), gorgonia.WithName(name), gorgonia.WithValue(v))
	}
	return gorgonia.NewMatrix(g, v.Dtype(), gorgonia.WithShape(v.Shape()...), gorgonia.WithName(name), gorgonia.WithValue(v))
}

// weightedSum returns Σ out ⊙ r for a fixed random r, and r: a cost whose
// gradient with respect to out is r, so every output entry matters.
func weightedSum(t testing.TB, rng *rand.Rand, out *gorgonia.Node) (cost, r *gorgonia.Node) {
	t.Helper()
	r = input(out.Graph(), out.Name()+"_r", randomDense(rng, out.Dtype(), out.Shape()...))
	return gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(out, r)))), r
}

// run executes g on a TapeMachine.
func run(t testing.TB, g *gorgonia.ExprGraph) {
	t.Helper()
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
}

// numericGrad differentiates cost with respect to the values of n by
// central finite differences, running g anew for every evaluation. It
// leaves g's values as they were (it reruns g on the original input).
func numericGrad(t *testing.T, g *gorgonia.ExprGraph, cost, n *gorgonia.Node) []float64 {
	t.Helper()
	data := n.Value().Data().([]float64)
	orig := append([]float64(nil), data...)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	f := func(x []float64) float64 {
		copy(data, x)
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		return cost.Value().Data().(float64)
	}
	grad := fd.Gradient(nil, f, orig, &fd.Settings{Formula: fd.Central, Step: 1e-6})
	f(orig)
	return grad
}

// newProjection makes a projection with a random v from seed.
func newProjection(t testing.TB, g *gorgonia.ExprGraph, m int, dt tensor.Dtype, seed int64, opts ...ProjectionOption) *Projection {
	t.Helper()
	p, err := NewProjection(g, m, dt, vinit.Random(seed), "v", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// compressByHand is z[t,k] = Σ_m x[t, kM+m]·v[m] over the entries that
// exist (zero padding), written out from the paper's definition.
func compressByHand(x []float64, d int, v []float64) []float64 {
	m := len(v)
	k := (d + m - 1) / m
	rows := len(x) / d
	z := make([]float64, rows*k)
	for t := 0; t < rows; t++ {
		for j := 0; j < d; j++ {
			z[t*k+j/m] += x[t*d+j] * v[j%m]
		}
	}
	return z
}

// reconstructByHand is x̂[t, j] = z[t, j/M]·v[j mod M] for j < d.
func reconstructByHand(z []float64, d int, v []float64) []float64 {
	m := len(v)
	k := (d + m - 1) / m
	rows := len(z) / k
	xhat := make([]float64, rows*d)
	for t := 0; t < rows; t++ {
		for j := 0; j < d; j++ {
			xhat[t*d+j] = z[t*k+j/m] * v[j%m]
		}
	}
	return xhat
}
