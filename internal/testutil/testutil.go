// Package testutil holds what the module's tests share: random inputs,
// tolerances, finite differences and the comparison of a fused op with the
// plain gorgonia composition it replaces.
package testutil

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/machine"
)

// RandomDense returns a tensor of the given shape with standard normal
// entries drawn from rng.
func RandomDense(rng *rand.Rand, dt tensor.Dtype, shape ...int) *tensor.Dense {
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

// Float64s returns a value's data as float64s (a copy for float32). It
// panics on other data, failing the test.
func Float64s(v gorgonia.Value) []float64 {
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
	panic(fmt.Sprintf("testutil: %T data is not float", v.Data()))
}

// Scalar returns a scalar value as a float64.
func Scalar(v gorgonia.Value) float64 {
	switch x := v.Data().(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	panic(fmt.Sprintf("testutil: %T data is not a float scalar", v.Data()))
}

// MaxAbsDiff is the largest |a[i] - b[i]|.
func MaxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// CloseTo fails unless got and want agree to tol, relative to the larger of
// 1 and the biggest magnitude in want.
func CloseTo(t testing.TB, what string, got, want []float64, tol float64) {
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

// Input adds a matrix or vector variable holding a copy of value to g.
func Input(g *gorgonia.ExprGraph, name string, value *tensor.Dense) *gorgonia.Node {
	v := value.Clone().(*tensor.Dense)
	if v.Dims() == 1 {
		return gorgonia.NewVector(g, v.Dtype(), gorgonia.WithShape(v.Shape()...), gorgonia.WithName(name), gorgonia.WithValue(v))
	}
	return gorgonia.NewMatrix(g, v.Dtype(), gorgonia.WithShape(v.Shape()...), gorgonia.WithName(name), gorgonia.WithValue(v))
}

// WeightedSum returns Σ out ⊙ r for a fixed random r, and r: a cost whose
// gradient with respect to out is r, so every output entry matters.
func WeightedSum(t testing.TB, rng *rand.Rand, out *gorgonia.Node) (cost, r *gorgonia.Node) {
	t.Helper()
	r = Input(out.Graph(), out.Name()+"_r", RandomDense(rng, out.Dtype(), out.Shape()...))
	return gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(out, r)))), r
}

// Run executes g on a TapeMachine.
func Run(t testing.TB, g *gorgonia.ExprGraph) {
	t.Helper()
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
}

// NumericGrad differentiates cost with respect to the values of n by
// central finite differences, running g anew for every evaluation. It
// leaves g's values as they were (it reruns g on the original input).
func NumericGrad(t *testing.T, g *gorgonia.ExprGraph, cost, n *gorgonia.Node) []float64 {
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

// Builder makes an output node from input nodes given in a fixed order.
type Builder func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node

// GradResult is an output and the gradients of Σ r ⊙ output with respect to
// every input, for one graph.
type GradResult struct {
	G     *gorgonia.ExprGraph
	Cost  *gorgonia.Node
	In    gorgonia.Nodes
	Out   []float64
	Grads [][]float64
}

// RunGrads builds cost = Σ r ⊙ build(in) (r random from seed 101) and runs
// it on a TapeMachine, or a LispMachine when lisp is set.
func RunGrads(t *testing.T, values []*tensor.Dense, build Builder, lisp bool) GradResult {
	t.Helper()
	g := gorgonia.NewGraph()
	in := make(gorgonia.Nodes, len(values))
	for i, v := range values {
		in[i] = Input(g, string(rune('a'+i)), v)
	}
	out := build(t, in)
	cost, _ := WeightedSum(t, rand.New(rand.NewSource(101)), out)
	res := GradResult{G: g, Cost: cost, In: in}
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
			res.Grads = append(res.Grads, Float64s(gv))
		}
		res.Out = Float64s(out.Value())
		return res
	}
	grads, err := gorgonia.Grad(cost, in...)
	if err != nil {
		t.Fatal(err)
	}
	Run(t, g)
	res.Out = Float64s(out.Value())
	for _, gn := range grads {
		res.Grads = append(res.Grads, Float64s(gn.Value()))
	}
	return res
}

// CheckFused compares a fused op with the plain gorgonia composition it
// replaces on float64 inputs (forward and every gradient to tol), with
// finite differences, with LispMachine, and with itself in float32.
func CheckFused(t *testing.T, values []*tensor.Dense, fused, plain Builder, tol float64) {
	t.Helper()
	want := RunGrads(t, values, plain, false)
	got := RunGrads(t, values, fused, false)
	CloseTo(t, "output", got.Out, want.Out, tol)
	for i := range values {
		CloseTo(t, "gradient vs plain graph", got.Grads[i], want.Grads[i], tol)
		CloseTo(t, "gradient vs finite differences", got.Grads[i], NumericGrad(t, got.G, got.Cost, got.In[i]), 1e-6)
	}
	lisp := RunGrads(t, values, fused, true)
	for i := range values {
		CloseTo(t, "LispMachine gradient", lisp.Grads[i], got.Grads[i], tol)
	}
	values32 := make([]*tensor.Dense, len(values))
	for i, v := range values {
		values32[i] = tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(v.Shape()...))
		for j, x := range v.Data().([]float64) {
			values32[i].Data().([]float32)[j] = float32(x)
		}
	}
	got32 := RunGrads(t, values32, fused, false)
	CloseTo(t, "float32 output", got32.Out, got.Out, 1e-4)
	for i := range values {
		CloseTo(t, "float32 gradient", got32.Grads[i], got.Grads[i], 1e-4)
	}
}

// PeakOf is the exact peak of a training step of cost = Σ r ⊙ build(in),
// differentiated with respect to every input, under package machine.
func PeakOf(t *testing.T, values []*tensor.Dense, build Builder) int64 {
	t.Helper()
	g := gorgonia.NewGraph()
	in := make(gorgonia.Nodes, len(values))
	for i, v := range values {
		in[i] = Input(g, string(rune('a'+i)), v)
	}
	cost, _ := WeightedSum(t, rand.New(rand.NewSource(103)), build(t, in))
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

// BytesPerCall is what f allocates on the Go heap per call, once warm, with the
// collector off so that nothing is reclaimed and refilled in between.
func BytesPerCall(f func()) int64 {
	const calls = 20
	for range 3 {
		f()
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range calls {
		f()
	}
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc-before.TotalAlloc) / calls
}

// Prefixed reports whether an error message starts with its package's name,
// "pkg: ", and names it once: a wrapper that adds a second prefix ("nn: nn:
// …") buries the first.
func Prefixed(msg, pkg string) bool {
	return strings.HasPrefix(msg, pkg+": ") && strings.Count(msg, pkg+": ") == 1
}

// BackwardNeverReads differentiates cost with respect to wrt and fails if a
// node that gorgonia.Grad adds has x as a child: x can then be freed after the
// forward pass. It also fails when Grad adds fewer than two nodes.
func BackwardNeverReads(t testing.TB, cost, x *gorgonia.Node, wrt ...*gorgonia.Node) {
	t.Helper()
	g := cost.Graph()
	forward := map[int64]bool{}
	for _, n := range g.AllNodes() {
		forward[n.ID()] = true
	}
	if _, err := gorgonia.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	backward := 0
	for _, n := range g.AllNodes() {
		if forward[n.ID()] {
			continue
		}
		backward++
		children := g.From(n.ID())
		for children.Next() {
			if children.Node().ID() == x.ID() {
				t.Errorf("gradient node %v (%v) reads %s", n.Name(), n.Op(), x.Name())
			}
		}
	}
	if backward < 2 {
		t.Fatalf("only %d gradient nodes found", backward)
	}
}
