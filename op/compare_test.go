package op

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/machine"
	"github.com/velora-go/velora/op/plain"
)

// builder makes an output node from input nodes given in a fixed order.
type builder func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node

// gradResult is an output and the gradients of Σ r ⊙ output with respect to
// every input, for one graph.
type gradResult struct {
	g     *gorgonia.ExprGraph
	cost  *gorgonia.Node
	in    gorgonia.Nodes
	out   []float64
	grads [][]float64
}

// runGrads builds cost = Σ r ⊙ build(in) (r random from seed 101) and runs
// it on a TapeMachine, or a LispMachine when lisp is set.
func runGrads(t *testing.T, values []*tensor.Dense, build builder, lisp bool) gradResult {
	t.Helper()
	g := gorgonia.NewGraph()
	in := make(gorgonia.Nodes, len(values))
	for i, v := range values {
		in[i] = input(g, string(rune('a'+i)), v)
	}
	out := build(t, in)
	cost, _ := weightedSum(t, rand.New(rand.NewSource(101)), out)
	res := gradResult{g: g, cost: cost, in: in}
	if lisp {
		m := gorgonia.NewLispMachine(g)
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		for _, n := range in {
			gv, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			res.grads = append(res.grads, float64s(t, gv))
		}
		res.out = float64s(t, out.Value())
		return res
	}
	grads, err := gorgonia.Grad(cost, in...)
	if err != nil {
		t.Fatal(err)
	}
	run(t, g)
	res.out = float64s(t, out.Value())
	for _, gn := range grads {
		res.grads = append(res.grads, float64s(t, gn.Value()))
	}
	return res
}

// checkFused compares a fused op with the plain gorgonia composition it
// replaces on float64 inputs (forward and every gradient to tol), with
// finite differences, with LispMachine, and with itself in float32.
func checkFused(t *testing.T, values []*tensor.Dense, fused, plain builder, tol float64) {
	t.Helper()
	want := runGrads(t, values, plain, false)
	got := runGrads(t, values, fused, false)
	closeTo(t, "output", got.out, want.out, tol)
	for i := range values {
		closeTo(t, "gradient vs plain graph", got.grads[i], want.grads[i], tol)
		closeTo(t, "gradient vs finite differences", got.grads[i], numericGrad(t, got.g, got.cost, got.in[i]), 1e-6)
	}
	lisp := runGrads(t, values, fused, true)
	for i := range values {
		closeTo(t, "LispMachine gradient", lisp.grads[i], got.grads[i], tol)
	}
	values32 := make([]*tensor.Dense, len(values))
	for i, v := range values {
		values32[i] = tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(v.Shape()...))
		for j, x := range v.Data().([]float64) {
			values32[i].Data().([]float32)[j] = float32(x)
		}
	}
	got32 := runGrads(t, values32, fused, false)
	closeTo(t, "float32 output", got32.out, got.out, 1e-4)
	for i := range values {
		closeTo(t, "float32 gradient", got32.grads[i], got.grads[i], 1e-4)
	}
}

// peakOf is the exact peak of a training step of cost = Σ r ⊙ build(in),
// differentiated with respect to every input, under package machine.
func peakOf(t *testing.T, values []*tensor.Dense, build builder) int64 {
	t.Helper()
	g := gorgonia.NewGraph()
	in := make(gorgonia.Nodes, len(values))
	for i, v := range values {
		in[i] = input(g, string(rune('a'+i)), v)
	}
	cost, _ := weightedSum(t, rand.New(rand.NewSource(103)), build(t, in))
	grads, err := gorgonia.Grad(cost, in...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := machine.New(g, append(gorgonia.Nodes{cost}, grads...))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return m.Stats().PeakBytes
}

// TestFusedOpsPeakBelowPlainCompositions measures each fused op's training
// step against the gorgonia composition it replaces, float32, under
// machine: bytes are exact, so the comparison is too.
func TestFusedOpsPeakBelowPlainCompositions(t *testing.T) {
	rng := rand.New(rand.NewSource(107))
	x, w, b := randomDense(rng, tensor.Float32, 256, 64), randomDense(rng, tensor.Float32, 64), randomDense(rng, tensor.Float32, 64)
	gate := randomDense(rng, tensor.Float32, 256, 64)
	for _, c := range []struct {
		name         string
		values       []*tensor.Dense
		fused, plain builder
	}{
		{"RMSNorm", []*tensor.Dense{x, w},
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
				return gorgonia.Must(RMSNorm(in[0], in[1], 1e-6))
			},
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
				return gorgonia.Must(plain.RMSNorm(in[0], in[1], 1e-6))
			}},
		{"LayerNorm", []*tensor.Dense{x, w, b},
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
				return gorgonia.Must(LayerNorm(in[0], in[1], in[2], 1e-6))
			},
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
				return gorgonia.Must(plain.LayerNorm(in[0], in[1], in[2], 1e-6))
			}},
		{"SwiGLU", []*tensor.Dense{gate, x},
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(SwiGLU(in[0], in[1])) },
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(plain.SwiGLU(in[0], in[1])) }},
	} {
		fused, composed := peakOf(t, c.values, c.fused), peakOf(t, c.values, c.plain)
		t.Logf("%s: fused %d bytes, plain %d bytes (%.2fx)", c.name, fused, composed, float64(composed)/float64(fused))
		if fused >= composed {
			t.Errorf("%s: fused peak %d bytes, plain %d", c.name, fused, composed)
		}
	}
}
