package op

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/op/internal/opkit"
)

// linearCase is one Linear configuration: x (t, d) @ w (d, dout), sub-token size m.
type linearCase struct{ t, d, dout, m int }

var linearCases = []linearCase{
	{4, 12, 5, 4},
	{3, 10, 6, 4}, // padded last sub-token
	{6, 8, 3, 1},
	{2, 5, 4, 8}, // D < M
}

// linearGraph builds cost = Σ r ⊙ out for out = Linear(x, w) (or x @ w with
// gorgonia's Mul when plain is set) and returns the gradients for x and w.
type linearGraph struct {
	g                  *gorgonia.ExprGraph
	x, w, out, cost, r *gorgonia.Node
	gradX, gradW       *gorgonia.Node
	p                  *Projection
}

func buildLinear(t *testing.T, c linearCase, dt tensor.Dtype, xv *tensor.Dense, plain bool, opts ...LinearOption) *linearGraph {
	t.Helper()
	return buildLinearZ(t, c, dt, xv, plain, ZFull, opts...)
}

// buildLinearZ is buildLinear with z kept in format f.
func buildLinearZ(t *testing.T, c linearCase, dt tensor.Dtype, xv *tensor.Dense, plain bool, f ZFormat, opts ...LinearOption) *linearGraph {
	t.Helper()
	rng := rand.New(rand.NewSource(11))
	l := &linearGraph{g: gorgonia.NewGraph()}
	l.x = testutil.Input(l.g, "x", xv)
	l.w = testutil.Input(l.g, "w", testutil.RandomDense(rng, dt, c.d, c.dout))
	l.p = newProjection(t, l.g, c.m, dt, 13, WithZFormat(f))
	var err error
	if plain {
		l.out, err = gorgonia.Mul(l.x, l.w)
	} else {
		l.out, err = Linear(l.x, l.w, l.p, opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	l.cost, l.r = testutil.WeightedSum(t, rng, l.out)
	grads, err := gorgonia.Grad(l.cost, l.x, l.w)
	if err != nil {
		t.Fatal(err)
	}
	l.gradX, l.gradW = grads[0], grads[1]
	testutil.Run(t, l.g)
	return l
}

// onVLine returns x whose every sub-token is a multiple of v (the v that
// newProjection makes from seed), so that x̂ = x.
func onVLine(t *testing.T, c linearCase, dt tensor.Dtype, seed int64) *tensor.Dense {
	p := newProjection(t, gorgonia.NewGraph(), c.m, dt, seed)
	rng := rand.New(rand.NewSource(17))
	k := opkit.Groups(c.d, c.m)
	z := make([]float64, c.t*k)
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	x := reconstructByHand(z, c.d, p.Vector())
	if dt == tensor.Float32 {
		x32 := make([]float32, len(x))
		for i, a := range x {
			x32[i] = float32(a)
		}
		return tensor.New(tensor.WithShape(c.t, c.d), tensor.WithBacking(x32))
	}
	return tensor.New(tensor.WithShape(c.t, c.d), tensor.WithBacking(x))
}

func TestLinearMatchesMulWhereVeLoRAIsExact(t *testing.T) {
	// When every sub-token lies on v's line, x̂ = x and VeLoRA's gradients are
	// gorgonia's own. The padded cases are excluded: a padded sub-token on
	// v's line has zeros only where v does, which onVLine does not make.
	for _, c := range linearCases {
		x := onVLine(t, c, tensor.Float64, 13)
		plain := buildLinear(t, c, tensor.Float64, x, true)
		velora := buildLinear(t, c, tensor.Float64, x, false)
		testutil.CloseTo(t, "out", testutil.Float64s(velora.out.Value()), testutil.Float64s(plain.out.Value()), 1e-12)
		testutil.CloseTo(t, "grad x", testutil.Float64s(velora.gradX.Value()), testutil.Float64s(plain.gradX.Value()), 1e-12)
		if c.d%c.m == 0 {
			testutil.CloseTo(t, "grad w", testutil.Float64s(velora.gradW.Value()), testutil.Float64s(plain.gradW.Value()), 1e-12)
			testutil.CloseTo(t, "grad w by finite differences", testutil.Float64s(velora.gradW.Value()), testutil.NumericGrad(t, velora.g, velora.cost, velora.w), 1e-7)
		}
	}
}

func TestLinearOnRandomData(t *testing.T) {
	for _, c := range linearCases {
		rng := rand.New(rand.NewSource(19))
		x := testutil.RandomDense(rng, tensor.Float64, c.t, c.d)
		plain := buildLinear(t, c, tensor.Float64, x, true)
		velora := buildLinear(t, c, tensor.Float64, x, false)
		testutil.CloseTo(t, "out", testutil.Float64s(velora.out.Value()), testutil.Float64s(plain.out.Value()), 1e-12)
		testutil.CloseTo(t, "grad x", testutil.Float64s(velora.gradX.Value()), testutil.Float64s(plain.gradX.Value()), 1e-12)
		testutil.CloseTo(t, "grad x by finite differences", testutil.Float64s(velora.gradX.Value()), testutil.NumericGrad(t, velora.g, velora.cost, velora.x), 1e-7)

		// grad_w = x̂ᵀ r with x̂ from the paper's definition and r = ∂cost/∂out.
		v := velora.p.Vector()
		xhat := reconstructByHand(compressByHand(testutil.Float64s(x), c.d, v), c.d, v)
		testutil.CloseTo(t, "grad w", testutil.Float64s(velora.gradW.Value()), transposeTimes(xhat, testutil.Float64s(velora.r.Value()), c.t, c.d, c.dout), 1e-12)
	}
}

// transposeTimes returns aᵀ b for a (n, p) and b (n, q), row-major.
func transposeTimes(a, b []float64, n, p, q int) []float64 {
	out := make([]float64, p*q)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			for k := 0; k < q; k++ {
				out[j*q+k] += a[i*p+j] * b[i*q+k]
			}
		}
	}
	return out
}

func TestLinearFusedWeightGradientMatchesReconstructPath(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		for _, c := range append(linearCases, linearCase{64, 96, 40, 16}) {
			x := testutil.RandomDense(rand.New(rand.NewSource(23)), dt, c.t, c.d)
			for _, scale := range []float64{1, 0.25} {
				fused := buildLinear(t, c, dt, x, false, WithGradScale(scale))
				ref := buildLinear(t, c, dt, x, false, WithGradScale(scale), WithReconstruct())
				testutil.CloseTo(t, "grad w", testutil.Float64s(fused.gradW.Value()), testutil.Float64s(ref.gradW.Value()), tol)
				testutil.CloseTo(t, "grad x", testutil.Float64s(fused.gradX.Value()), testutil.Float64s(ref.gradX.Value()), tol)
			}
		}
	}
}

func TestLinearGradScaleScalesTheWeightGradientOnly(t *testing.T) {
	c := linearCases[1]
	x := testutil.RandomDense(rand.New(rand.NewSource(29)), tensor.Float64, c.t, c.d)
	one := buildLinear(t, c, tensor.Float64, x, false)
	three := buildLinear(t, c, tensor.Float64, x, false, WithGradScale(3))
	want := testutil.Float64s(one.gradW.Value())
	for i := range want {
		want[i] *= 3
	}
	testutil.CloseTo(t, "grad w", testutil.Float64s(three.gradW.Value()), want, 1e-12)
	testutil.CloseTo(t, "grad x", testutil.Float64s(three.gradX.Value()), testutil.Float64s(one.gradX.Value()), 1e-12)
}

// TestLinearBackwardNeverReadsX walks every node that gorgonia.Grad adds
// and checks that none has x as a child: x can die after the forward pass.
func TestLinearBackwardNeverReadsX(t *testing.T) {
	for _, reconstructPath := range []bool{false, true} {
		g := gorgonia.NewGraph()
		rng := rand.New(rand.NewSource(31))
		x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 4, 8))
		w := testutil.Input(g, "w", testutil.RandomDense(rng, tensor.Float64, 8, 3))
		p := newProjection(t, g, 4, tensor.Float64, 1)
		var opts []LinearOption
		if reconstructPath {
			opts = append(opts, WithReconstruct())
		}
		out := gorgonia.Must(Linear(x, w, p, opts...))
		cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(out))))
		testutil.BackwardNeverReads(t, cost, x, x, w)
	}
}

// TestLinearLispMachineMatchesTapeMachine runs the same graph under
// LispMachine's DoDiff path and TapeMachine's SymDiff path.
func TestLinearLispMachineMatchesTapeMachine(t *testing.T) {
	for _, reconstructPath := range []bool{false, true} {
		c := linearCases[1]
		x := testutil.RandomDense(rand.New(rand.NewSource(37)), tensor.Float64, c.t, c.d)
		var opts []LinearOption
		if reconstructPath {
			opts = append(opts, WithReconstruct())
		}
		tape := buildLinear(t, c, tensor.Float64, x, false, opts...)

		g := gorgonia.NewGraph()
		rng := rand.New(rand.NewSource(11))
		xn := testutil.Input(g, "x", x)
		w := testutil.Input(g, "w", testutil.RandomDense(rng, tensor.Float64, c.d, c.dout))
		p := newProjection(t, g, c.m, tensor.Float64, 13)
		out := gorgonia.Must(Linear(xn, w, p, opts...))
		testutil.WeightedSum(t, rng, out)
		m := gorgonia.NewLispMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Close()
		gx, err := xn.Grad()
		if err != nil {
			t.Fatal(err)
		}
		gw, err := w.Grad()
		if err != nil {
			t.Fatal(err)
		}
		testutil.CloseTo(t, "grad x", testutil.Float64s(gx), testutil.Float64s(tape.gradX.Value()), 1e-12)
		testutil.CloseTo(t, "grad w", testutil.Float64s(gw), testutil.Float64s(tape.gradW.Value()), 1e-12)
	}
}

func TestWeightGradEqualsLinearsBackward(t *testing.T) {
	c := linearCases[1]
	x := testutil.RandomDense(rand.New(rand.NewSource(199)), tensor.Float64, c.t, c.d)
	l := buildLinear(t, c, tensor.Float64, x, false, WithGradScale(2))
	for _, opts := range [][]LinearOption{{WithGradScale(2)}, {WithGradScale(2), WithReconstruct()}} {
		g := gorgonia.NewGraph()
		p := newProjection(t, g, c.m, tensor.Float64, 13)
		z := testutil.Input(g, "z", tensor.New(tensor.WithShape(c.t, opkit.Groups(c.d, c.m)), tensor.WithBacking(compressByHand(testutil.Float64s(x), c.d, p.Vector()))))
		gw, err := WeightGrad(z, testutil.Input(g, "g", l.r.Value().(*tensor.Dense)), p, c.d, opts...)
		if err != nil {
			t.Fatal(err)
		}
		testutil.Run(t, g)
		testutil.CloseTo(t, "grad w", testutil.Float64s(gw.Value()), testutil.Float64s(l.gradW.Value()), 1e-12)
	}
}
