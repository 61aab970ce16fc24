package nn

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/machine"
	"github.com/velora-go/velora/op/internal/opkit"
	"github.com/velora-go/velora/op/plain"
)

// attentionCase is one configuration: B sequences of T tokens of width D
// split into heads.
type attentionCase struct {
	b, t, d, heads int
	causal         bool
}

var attentionCases = []attentionCase{
	{1, 1, 3, 1, true}, // one token: a block of one row
	{1, 5, 4, 1, false},
	{2, 6, 8, 2, true}, // two blocks of 3 rows
	{2, 7, 12, 3, false},
	{2, 7, 12, 3, true}, // blocks of 3, 3 and 1 rows
	{3, 4, 8, 4, true},
}

// attentionValues returns q, k, v for c as (B·T, D) matrices, the shape the
// test helpers handle.
func attentionValues(c attentionCase, seed int64) []*tensor.Dense {
	rng := rand.New(rand.NewSource(seed))
	return []*tensor.Dense{
		testutil.RandomDense(rng, tensor.Float64, c.b*c.t, c.d),
		testutil.RandomDense(rng, tensor.Float64, c.b*c.t, c.d),
		testutil.RandomDense(rng, tensor.Float64, c.b*c.t, c.d),
	}
}

// fusedAttention reshapes q, k, v: (B·T, D) to (B, T, D), applies
// Attention and reshapes the result back.
func fusedAttention(c attentionCase) testutil.Builder {
	return func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		t.Helper()
		qkv := make(gorgonia.Nodes, 3)
		for i, n := range in {
			qkv[i] = gorgonia.Must(gorgonia.Reshape(n, tensor.Shape{c.b, c.t, c.d}))
		}
		out, err := Attention(qkv[0], qkv[1], qkv[2], c.heads, c.causal)
		if err != nil {
			t.Fatal(err)
		}
		return gorgonia.Must(gorgonia.Reshape(out, tensor.Shape{c.b * c.t, c.d}))
	}
}

// plainAttention applies plain.Attention to q, k, v: (B·T, D) reshaped to
// (B, T, D), and reshapes the result back.
func plainAttention(c attentionCase) testutil.Builder {
	return func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		t.Helper()
		qkv := make(gorgonia.Nodes, 3)
		for i, n := range in {
			qkv[i] = gorgonia.Must(gorgonia.Reshape(n, tensor.Shape{c.b, c.t, c.d}))
		}
		out, err := plain.Attention(qkv[0], qkv[1], qkv[2], c.heads, c.causal)
		if err != nil {
			t.Fatal(err)
		}
		return gorgonia.Must(gorgonia.Reshape(out, tensor.Shape{c.b * c.t, c.d}))
	}
}

// scalarLike is a constant x of dtype dt.
func scalarLike(g *gorgonia.ExprGraph, dt tensor.Dtype, x float64) *gorgonia.Node {
	if dt == tensor.Float32 {
		return gorgonia.NewConstant(float32(x))
	}
	return gorgonia.NewConstant(x)
}

// toFloat32 converts a float64 tensor.
func toFloat32(d *tensor.Dense) *tensor.Dense {
	out := opkit.Zeros(tensor.Float32, d.Shape()...)
	for i, x := range d.Data().([]float64) {
		out.Data().([]float32)[i] = float32(x)
	}
	return out
}

// TestAttentionMatchesPlainGraph compares Attention with the gorgonia
// composition (forward and the gradients of q, k and v to 1e-10), with
// finite differences, with itself under LispMachine and in float32.
func TestAttentionMatchesPlainGraph(t *testing.T) {
	for i, c := range attentionCases {
		testutil.CheckFused(t, attentionValues(c, int64(41+i)), fusedAttention(c), plainAttention(c), 1e-10)
	}
}

// tensor3 adds a (B, T, D) variable holding a copy of value to g.
func tensor3(g *gorgonia.ExprGraph, name string, value *tensor.Dense) *gorgonia.Node {
	return gorgonia.NewTensor(g, value.Dtype(), 3, gorgonia.WithShape(value.Shape()...), gorgonia.WithName(name), gorgonia.WithValue(value.Clone()))
}

// TestAttentionBackwardKeepsNoScores checks the graph that gorgonia.Grad
// builds: the attention gradient reads q, k, v, lse and the output's
// gradient only (not the output), and no node anywhere holds
// (B, heads, T, T) values.
func TestAttentionBackwardKeepsNoScores(t *testing.T) {
	const b, T, d, heads = 2, 16, 8, 2 // B·heads·T·T = 1024 > 3·B·T·D = 768, the largest node
	rng := rand.New(rand.NewSource(43))
	g := gorgonia.NewGraph()
	q := tensor3(g, "q", testutil.RandomDense(rng, tensor.Float64, b, T, d))
	k := tensor3(g, "k", testutil.RandomDense(rng, tensor.Float64, b, T, d))
	v := tensor3(g, "v", testutil.RandomDense(rng, tensor.Float64, b, T, d))
	out := gorgonia.Must(Attention(q, k, v, heads, true))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(out))))
	forward := map[int64]bool{}
	for _, n := range g.AllNodes() {
		forward[n.ID()] = true
	}
	if _, err := gorgonia.Grad(cost, q, k, v); err != nil {
		t.Fatal(err)
	}
	var gradOps, partOps int
	for _, n := range g.AllNodes() {
		if n.Shape().TotalSize() >= b*heads*T*T {
			t.Errorf("node %v (%v) has shape %v", n.Name(), n.Op(), n.Shape())
		}
		switch o := n.Op().(type) {
		case attentionGradPartOp:
			partOps++
		case *attentionOp:
			if o.part != attentionGrad {
				continue
			}
			gradOps++
			children := g.From(n.ID())
			for children.Next() {
				c := children.Node().(*gorgonia.Node)
				if !forward[c.ID()] || c == q || c == k || c == v {
					continue
				}
				if co, ok := c.Op().(*attentionOp); !ok || co.part != attentionLSE {
					t.Errorf("the attention gradient reads the forward node %v (%v)", c.Name(), c.Op())
				}
			}
		}
	}
	if gradOps != 1 || partOps != 3 {
		t.Fatalf("%d gradient ops and %d views, expected 1 and 3", gradOps, partOps)
	}
}

// TestAttentionMaskByHand checks the mask against what it means: under
// causal attention the first token sees itself only (its output is its v),
// and the last token sees everything (its output is the non-causal one).
func TestAttentionMaskByHand(t *testing.T) {
	const b, T, d, heads = 2, 5, 6, 3
	rng := rand.New(rand.NewSource(47))
	qv, kv, vv := testutil.RandomDense(rng, tensor.Float64, b, T, d), testutil.RandomDense(rng, tensor.Float64, b, T, d), testutil.RandomDense(rng, tensor.Float64, b, T, d)
	outs := make([][]float64, 2)
	for i, causal := range []bool{false, true} {
		g := gorgonia.NewGraph()
		out := gorgonia.Must(Attention(tensor3(g, "q", qv), tensor3(g, "k", kv), tensor3(g, "v", vv), heads, causal))
		testutil.Run(t, g)
		outs[i] = testutil.Float64s(out.Value())
	}
	vs := vv.Data().([]float64)
	for s := 0; s < b; s++ {
		first, last := s*T*d, (s*T+T-1)*d
		testutil.CloseTo(t, "causal first token", outs[1][first:first+d], vs[first:first+d], 1e-14)
		testutil.CloseTo(t, "causal last token", outs[1][last:last+d], outs[0][last:last+d], 1e-14)
	}
}

// TestAttentionBlockRowsFitOneSquare checks the scratch bound the
// documentation states: two blocks of scores hold at most T×T values (2
// for T = 1).
func TestAttentionBlockRowsFitOneSquare(t *testing.T) {
	for T := 1; T <= 300; T++ {
		br := attentionShape{t: T}.blockRows()
		if br < 1 || br > 64 || 2*br*T > max(T*T, 2) {
			t.Fatalf("T = %d: %d rows per block", T, br)
		}
	}
}

func TestAttentionBadInputs(t *testing.T) {
	rng := rand.New(rand.NewSource(53))
	g := gorgonia.NewGraph()
	q := tensor3(g, "q", testutil.RandomDense(rng, tensor.Float64, 2, 4, 10))
	k := tensor3(g, "k", testutil.RandomDense(rng, tensor.Float64, 2, 4, 10))
	short := tensor3(g, "short", testutil.RandomDense(rng, tensor.Float64, 2, 3, 10))
	q32 := tensor3(g, "q32", testutil.RandomDense(rng, tensor.Float32, 2, 4, 10))
	flat := testutil.Input(g, "flat", testutil.RandomDense(rng, tensor.Float64, 8, 10))
	cases := []struct {
		name string
		err  error
		want []string
	}{
		{"heads not dividing the width", second(Attention(q, k, k, 3, false)), []string{"width 10", "3 heads"}},
		{"zero heads", second(Attention(q, k, k, 0, false)), []string{"0 heads"}},
		{"negative heads", second(Attention(q, k, k, -2, true)), []string{"-2 heads"}},
		{"k shorter than q", second(Attention(q, short, k, 2, false)), []string{`"short"`, "(2, 3, 10)", "(2, 4, 10)"}},
		{"v shorter than q", second(Attention(q, k, short, 2, false)), []string{`"short"`, "(2, 3, 10)", "(2, 4, 10)"}},
		{"dtypes differ", second(Attention(q, q32, k, 2, false)), []string{"float32", "float64"}},
		{"rank 2", second(Attention(flat, flat, flat, 2, false)), []string{`"flat"`, "(8, 10)", "(B, T, D)"}},
		{"nil input", second(Attention(q, nil, k, 2, false)), []string{"nil"}},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(c.err.Error(), w) || !testutil.Prefixed(c.err.Error(), "nn") {
				t.Errorf("%s: error %q does not name %q", c.name, c.err, w)
			}
		}
	}
}

// attentionStep is a training step on x: (B·T, Dm) with q, k, v = x Wq,
// x Wk, x Wv reshaped to (B, T, D), attention built by attend and the cost
// Σ out², under package machine. It returns the machine's peak and the
// weight gradients.
func attentionStep(t *testing.T, c attentionCase, dm int, attend testutil.Builder) (int64, [][]float64) {
	t.Helper()
	rng := rand.New(rand.NewSource(59))
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float32, c.b*c.t, dm))
	ws := make(gorgonia.Nodes, 3)
	qkv := make(gorgonia.Nodes, 3)
	for i, name := range []string{"wq", "wk", "wv"} {
		ws[i] = testutil.Input(g, name, testutil.RandomDense(rng, tensor.Float32, dm, c.d))
		qkv[i] = gorgonia.Must(gorgonia.Mul(x, ws[i])) // (B·T, D)
	}
	out := attend(t, qkv)
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(out))))
	grads, err := gorgonia.Grad(cost, ws...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := machine.New(g, append(gorgonia.Nodes{cost}, grads...))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var gs [][]float64
	for run := 0; run < 2; run++ { // the second run writes into recycled buffers
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		gs = gs[:0]
		for _, gn := range grads {
			gs = append(gs, testutil.Float64s(gn.Value()))
		}
	}
	return m.Stats().PeakBytes, gs
}

// TestAttentionPeakUnderMachine measures a training step's peak live bytes
// with Attention and with the plain composition under package machine: the
// fused op keeps no (B, heads, T, T) tensor for the backward pass.
func TestAttentionPeakUnderMachine(t *testing.T) {
	c := attentionCase{b: 2, t: 64, d: 32, heads: 4, causal: true}
	fused, gotGrads := attentionStep(t, c, 32, fusedAttention(c))
	plain, wantGrads := attentionStep(t, c, 32, plainAttention(c))
	for i := range gotGrads {
		testutil.CloseTo(t, "weight gradient", gotGrads[i], wantGrads[i], 1e-4) // float32
	}
	t.Logf("peak of a float32 training step, B=%d T=%d D=%d heads=%d: fused %d bytes, plain %d bytes (%.2fx)",
		c.b, c.t, c.d, c.heads, fused, plain, float64(plain)/float64(fused))
	if fused >= plain {
		t.Fatalf("fused attention peaks at %d bytes, the plain graph at %d", fused, plain)
	}
}
