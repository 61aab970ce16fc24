package machine

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// model is a training graph: its cost, parameters and their gradients from gorgonia.Grad.
type model struct {
	g      *gorgonia.ExprGraph
	cost   *gorgonia.Node
	params gorgonia.Nodes
	grads  gorgonia.Nodes
}

// outputs are what a training step reads: the cost and every gradient.
func (m *model) outputs() gorgonia.Nodes { return append(gorgonia.Nodes{m.cost}, m.grads...) }

// linearFunc builds x @ w; the tests swap gorgonia.Mul for op.Linear.
type linearFunc func(x, w *gorgonia.Node) (*gorgonia.Node, error)

func mul(x, w *gorgonia.Node) (*gorgonia.Node, error) { return gorgonia.Mul(x, w) }

// builder makes the same graph, with the same seeded values, every time it is called.
type builder func(dt tensor.Dtype, lin linearFunc) *model

func randDense(rng *rand.Rand, dt tensor.Dtype, scale float64, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	switch dt {
	case tensor.Float32:
		b := make([]float32, n)
		for i := range b {
			b[i] = float32(scale * rng.NormFloat64())
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(b))
	default:
		b := make([]float64, n)
		for i := range b {
			b[i] = scale * rng.NormFloat64()
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(b))
	}
}

// leaf adds a matrix with seeded normal values of standard deviation scale.
func leaf(g *gorgonia.ExprGraph, rng *rand.Rand, dt tensor.Dtype, name string, scale float64, shape ...int) *gorgonia.Node {
	return gorgonia.NewTensor(g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name),
		gorgonia.WithValue(randDense(rng, dt, scale, shape...)))
}

func grad(m *model) *model {
	m.grads = mustGrad(m.cost, m.params)
	return m
}

func mustGrad(cost *gorgonia.Node, params gorgonia.Nodes) gorgonia.Nodes {
	gs, err := gorgonia.Grad(cost, params...)
	if err != nil {
		panic(err)
	}
	return gs
}

// swigluMLP is blocks residual SwiGLU blocks, x += (silu(x Wg) ⊙ x Wu) Wd, on x: (T, D)
// with a squared-error cost; down builds the x Wd products.
func swigluMLP(blocks, T, D, F int) builder {
	return func(dt tensor.Dtype, down linearFunc) *model {
		rng := rand.New(rand.NewSource(1))
		g := gorgonia.NewGraph()
		x := leaf(g, rng, dt, "x", 1, T, D)
		target := leaf(g, rng, dt, "target", 1, T, D)
		m := &model{g: g}
		h := x
		for b := 0; b < blocks; b++ {
			wg := leaf(g, rng, dt, fmt.Sprintf("b%d.gate", b), 1/math.Sqrt(float64(D)), D, F)
			wu := leaf(g, rng, dt, fmt.Sprintf("b%d.up", b), 1/math.Sqrt(float64(D)), D, F)
			wd := leaf(g, rng, dt, fmt.Sprintf("b%d.down", b), 1/math.Sqrt(float64(F)), F, D)
			m.params = append(m.params, wg, wu, wd)
			gate := gorgonia.Must(gorgonia.Mul(h, wg))                                                                                         // (T, F)
			up := gorgonia.Must(gorgonia.Mul(h, wu))                                                                                           // (T, F)
			act := gorgonia.Must(gorgonia.HadamardProd(gorgonia.Must(gorgonia.HadamardProd(gate, gorgonia.Must(gorgonia.Sigmoid(gate)))), up)) // (T, F)
			h = gorgonia.Must(gorgonia.Add(h, gorgonia.Must(down(act, wd))))                                                                   // (T, D)
		}
		m.cost = gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Sub(h, target))))))
		return grad(m)
	}
}

// attention is one single-head softmax attention block on x: (T, D):
// softmax(q kᵀ / √D) v, projected by Wo; proj builds the four projections.
func attention(T, D int) builder {
	return func(dt tensor.Dtype, proj linearFunc) *model {
		rng := rand.New(rand.NewSource(2))
		g := gorgonia.NewGraph()
		x := leaf(g, rng, dt, "x", 1, T, D)
		m := &model{g: g}
		w := func(name string) *gorgonia.Node {
			p := leaf(g, rng, dt, name, 1/math.Sqrt(float64(D)), D, D)
			m.params = append(m.params, p)
			return p
		}
		wq, wk, wv, wo := w("q"), w("k"), w("v"), w("o")
		q := gorgonia.Must(proj(x, wq)) // (T, D)
		k := gorgonia.Must(proj(x, wk)) // (T, D)
		v := gorgonia.Must(proj(x, wv)) // (T, D)
		var scale interface{} = 1 / math.Sqrt(float64(D))
		if dt == tensor.Float32 {
			scale = float32(1 / math.Sqrt(float64(D)))
		}
		s := gorgonia.Must(gorgonia.Mul(gorgonia.Must(gorgonia.Mul(q, gorgonia.Must(gorgonia.Transpose(k)))), gorgonia.NewConstant(scale))) // (T, T)
		a := gorgonia.Must(gorgonia.Mul(gorgonia.Must(gorgonia.SoftMax(s)), v))                                                             // (T, D)
		out := gorgonia.Must(proj(a, wo))                                                                                                   // (T, D)
		m.cost = gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Square(out))))
		return grad(m)
	}
}

// reshapeShared has views and shared children: h = tanh(x W) is read by h ⊙ h (the same
// child twice) and, directly or through a sigmoid, by a reshape (a view) that multiplies
// a reshaped parameter (a view of a leaf). x: (T, D), W: (D, D), U: (D, D) seen as
// (2D, D/2). With viewOfShared the reshape views h itself, a graph TapeMachine computes
// U's gradient wrong for (its registers clobber the shared value).
func reshapeShared(T, D int, viewOfShared bool) builder {
	return func(dt tensor.Dtype, proj linearFunc) *model {
		rng := rand.New(rand.NewSource(3))
		g := gorgonia.NewGraph()
		x := leaf(g, rng, dt, "x", 1, T, D)
		w := leaf(g, rng, dt, "w", 1/math.Sqrt(float64(D)), D, D)
		u := leaf(g, rng, dt, "u", 1/math.Sqrt(float64(D)), D, D)
		h := gorgonia.Must(gorgonia.Tanh(gorgonia.Must(proj(x, w)))) // (T, D)
		viewed := h
		if !viewOfShared {
			viewed = gorgonia.Must(gorgonia.Sigmoid(h))
		}
		r := gorgonia.Must(gorgonia.Reshape(viewed, tensor.Shape{T / 2, 2 * D}))                          // (T/2, 2D), a view
		ur := gorgonia.Must(gorgonia.Reshape(u, tensor.Shape{2 * D, D / 2}))                              // (2D, D/2), a view of a leaf
		s := gorgonia.Must(proj(r, ur))                                                                   // (T/2, D/2)
		sq := gorgonia.Must(gorgonia.HadamardProd(h, h))                                                  // (T, D)
		rs := gorgonia.Must(gorgonia.Reshape(gorgonia.Must(gorgonia.Sum(sq, 1)), tensor.Shape{T / 2, 2})) // (T/2, 2), a view
		m := &model{g: g, params: gorgonia.Nodes{w, u}}
		m.cost = gorgonia.Must(gorgonia.Add(
			gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Square(s)))),
			gorgonia.Must(gorgonia.Mean(rs))))
		return grad(m)
	}
}

// flat copies a value's numbers out as float64s.
func flat(t *testing.T, v gorgonia.Value) []float64 {
	t.Helper()
	if v == nil {
		t.Fatal("nil value")
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
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	}
	t.Fatalf("value of type %T", v.Data())
	return nil
}

// tapeRun runs m's graph once on gorgonia's TapeMachine and copies out its outputs.
func tapeRun(t *testing.T, m *model) [][]float64 {
	t.Helper()
	vm := gorgonia.NewTapeMachine(m.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var out [][]float64
	for _, n := range m.outputs() {
		out = append(out, flat(t, n.Value()))
	}
	return out
}

// sameValues fails unless got and want are bit for bit the same.
func sameValues(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s[%d] = %v, want %v (TapeMachine)", what, i, got[i], want[i])
		}
	}
}
