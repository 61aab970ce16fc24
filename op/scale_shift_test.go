package op

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

// scaleShiftGraph builds cost = Σ r ⊙ (x ⊙ w + b), through ScaleShift with
// opts or through gorgonia's broadcast ops when plain is set, and returns
// the gradients for x, w and b.
func scaleShiftGraph(t *testing.T, xv *tensor.Dense, m int, plain bool, opts ...LinearOption) (g *gorgonia.ExprGraph, out, cost *gorgonia.Node, grads gorgonia.Nodes, p *Projection) {
	t.Helper()
	rng := rand.New(rand.NewSource(41))
	d := xv.Shape()[1]
	g = gorgonia.NewGraph()
	x := testutil.Input(g, "x", xv)
	w := testutil.Input(g, "w", testutil.RandomDense(rng, xv.Dtype(), d))
	b := testutil.Input(g, "b", testutil.RandomDense(rng, xv.Dtype(), d))
	p = newProjection(t, g, m, xv.Dtype(), 43)
	var err error
	if plain {
		row := func(n *gorgonia.Node) *gorgonia.Node { return gorgonia.Must(gorgonia.Reshape(n, tensor.Shape{1, d})) }
		scaled := gorgonia.Must(gorgonia.BroadcastHadamardProd(x, row(w), nil, []byte{0}))
		out, err = gorgonia.BroadcastAdd(scaled, row(b), nil, []byte{0})
	} else {
		out, err = ScaleShift(x, w, b, p, opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	cost, _ = testutil.WeightedSum(t, rng, out)
	if grads, err = gorgonia.Grad(cost, x, w, b); err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, g)
	return g, out, cost, grads, p
}

func TestScaleShiftMatchesBroadcastOps(t *testing.T) {
	for _, c := range subTokenCases {
		x := testutil.RandomDense(rand.New(rand.NewSource(47)), tensor.Float64, c.t, c.d)
		_, plainOut, _, plain, _ := scaleShiftGraph(t, x, c.m, true)
		g, out, cost, velora, p := scaleShiftGraph(t, x, c.m, false)
		testutil.CloseTo(t, "out", testutil.Float64s(out.Value()), testutil.Float64s(plainOut.Value()), 1e-12)
		testutil.CloseTo(t, "grad x", testutil.Float64s(velora[0].Value()), testutil.Float64s(plain[0].Value()), 1e-12)
		testutil.CloseTo(t, "grad b", testutil.Float64s(velora[2].Value()), testutil.Float64s(plain[2].Value()), 1e-12)
		testutil.CloseTo(t, "grad x by finite differences", testutil.Float64s(velora[0].Value()), testutil.NumericGrad(t, g, cost, g.ByName("x")[0]), 1e-7)

		// grad_w = Σ_t r ⊙ x̂: the exact gradient with x replaced by x̂.
		v := p.Vector()
		xhat := reconstructByHand(compressByHand(testutil.Float64s(x), c.d, v), c.d, v)
		r := testutil.Float64s(g.ByName(out.Name() + "_r")[0].Value())
		want := make([]float64, c.d)
		for i := range xhat {
			want[i%c.d] += r[i] * xhat[i]
		}
		testutil.CloseTo(t, "grad w", testutil.Float64s(velora[1].Value()), want, 1e-12)
	}
}

func TestScaleShiftGradientsMatchFiniteDifferencesWhereExact(t *testing.T) {
	// Sub-tokens on v's line (x̂ = x) make VeLoRA's unscaled grad_w the true
	// one; the gradient scale multiplies grad_w alone, on purpose.
	for _, c := range subTokenCases {
		if c.d%c.m != 0 {
			continue
		}
		x := onVLine(t, linearCase{t: c.t, d: c.d, m: c.m}, tensor.Float64, 43)
		for _, scale := range []float64{1, 3} {
			g, _, cost, grads, _ := scaleShiftGraph(t, x, c.m, false, WithGradScale(scale))
			for i, name := range []string{"x", "w", "b"} {
				want := testutil.NumericGrad(t, g, cost, g.ByName(name)[0])
				if name == "w" {
					for j := range want {
						want[j] *= scale
					}
				}
				testutil.CloseTo(t, fmt.Sprintf("scale %g: grad %s", scale, name), testutil.Float64s(grads[i].Value()), want, 1e-7)
			}
		}
	}
}

// TestScaleShiftGradScaleScalesTheScaleGradientOnly: the reference's
// VeLoRAScaleAndShift returns scale · grad_weight and grad_input, grad_bias
// as they are. Scale 1 gives the results without the option, bit for bit.
func TestScaleShiftGradScaleScalesTheScaleGradientOnly(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-15 // (s·v[m])·Σ against s·(v[m]·Σ): one rounding apart
		if dt == tensor.Float32 {
			tol = 1e-6
		}
		for _, c := range subTokenCases {
			x := testutil.RandomDense(rand.New(rand.NewSource(61)), dt, c.t, c.d)
			_, out, _, plain, _ := scaleShiftGraph(t, x, c.m, false)
			_, outOne, _, one, _ := scaleShiftGraph(t, x, c.m, false, WithGradScale(1))
			testutil.CloseTo(t, "scale 1: out", testutil.Float64s(outOne.Value()), testutil.Float64s(out.Value()), 0)
			for i, name := range []string{"x", "w", "b"} {
				testutil.CloseTo(t, "scale 1: grad "+name, testutil.Float64s(one[i].Value()), testutil.Float64s(plain[i].Value()), 0)
			}
			for _, scale := range []float64{3, 0.25} {
				_, _, _, scaled, _ := scaleShiftGraph(t, x, c.m, false, WithGradScale(scale))
				want := testutil.Float64s(plain[1].Value())
				for j := range want {
					want[j] *= scale
				}
				testutil.CloseTo(t, fmt.Sprintf("scale %g: grad w", scale), testutil.Float64s(scaled[1].Value()), want, tol)
				testutil.CloseTo(t, fmt.Sprintf("scale %g: grad x", scale), testutil.Float64s(scaled[0].Value()), testutil.Float64s(plain[0].Value()), 0)
				testutil.CloseTo(t, fmt.Sprintf("scale %g: grad b", scale), testutil.Float64s(scaled[2].Value()), testutil.Float64s(plain[2].Value()), 0)
			}
		}
	}
}

func TestScaleShiftOptionsThatDoNotApply(t *testing.T) {
	rng := rand.New(rand.NewSource(67))
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 3, 8))
	w := testutil.Input(g, "w", testutil.RandomDense(rng, tensor.Float64, 8))
	b := testutil.Input(g, "b", testutil.RandomDense(rng, tensor.Float64, 8))
	p := newProjection(t, g, 4, tensor.Float64, 1)
	for _, c := range []struct {
		name string
		p    *Projection
		opts []LinearOption
		want string
	}{
		{"reconstruct", p, []LinearOption{WithReconstruct()}, "WithReconstruct does not apply"},
		{"scale without a projection", nil, []LinearOption{WithGradScale(2)}, "gradient scale 2 without a projection"},
		{"scale 0", p, []LinearOption{WithGradScale(0)}, "gradient scale 0"},
		{"scale NaN", p, []LinearOption{WithGradScale(math.NaN())}, "gradient scale NaN"},
	} {
		if _, err := ScaleShift(x, w, b, c.p, c.opts...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, expected %q", c.name, err, c.want)
		}
	}
	if _, err := ScaleShift(x, w, b, nil, WithGradScale(1)); err != nil {
		t.Errorf("scale 1 without a projection: %v", err)
	}
}

func TestScaleShiftFloat32MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewSource(53))
	x64 := testutil.RandomDense(rng, tensor.Float64, 6, 10)
	x32 := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(6, 10))
	for i, a := range x64.Data().([]float64) {
		x32.Data().([]float32)[i] = float32(a)
	}
	_, out64, _, g64, _ := scaleShiftGraph(t, x64, 4, false)
	_, out32, _, g32, _ := scaleShiftGraph(t, x32, 4, false)
	testutil.CloseTo(t, "out", testutil.Float64s(out32.Value()), testutil.Float64s(out64.Value()), 1e-5)
	for i := range g64 {
		testutil.CloseTo(t, "grad", testutil.Float64s(g32[i].Value()), testutil.Float64s(g64[i].Value()), 1e-5)
	}
}

func TestScaleShiftLispMachineMatchesTapeMachine(t *testing.T) {
	x := testutil.RandomDense(rand.New(rand.NewSource(59)), tensor.Float64, 3, 10)
	for _, scale := range []float64{1, 3} {
		_, _, _, tape, _ := scaleShiftGraph(t, x, 4, false, WithGradScale(scale))

		rng := rand.New(rand.NewSource(41))
		g := gorgonia.NewGraph()
		xn := testutil.Input(g, "x", x)
		w := testutil.Input(g, "w", testutil.RandomDense(rng, tensor.Float64, 10))
		b := testutil.Input(g, "b", testutil.RandomDense(rng, tensor.Float64, 10))
		p := newProjection(t, g, 4, tensor.Float64, 43)
		testutil.WeightedSum(t, rng, gorgonia.Must(ScaleShift(xn, w, b, p, WithGradScale(scale))))
		m := gorgonia.NewLispMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		for i, n := range []*gorgonia.Node{xn, w, b} {
			grad, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			testutil.CloseTo(t, fmt.Sprintf("scale %g: %s", scale, n.Name()), testutil.Float64s(grad), testutil.Float64s(tape[i].Value()), 1e-12)
		}
		m.Close()
	}
}

func TestPlainScaleShiftMatchesBroadcastOps(t *testing.T) {
	rng := rand.New(rand.NewSource(197))
	values := []*tensor.Dense{testutil.RandomDense(rng, tensor.Float64, 5, 6), testutil.RandomDense(rng, tensor.Float64, 6), testutil.RandomDense(rng, tensor.Float64, 6)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		return gorgonia.Must(ScaleShift(in[0], in[1], in[2], nil))
	}
	plain := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		row := func(n *gorgonia.Node) *gorgonia.Node { return gorgonia.Must(gorgonia.Reshape(n, tensor.Shape{1, 6})) }
		scaled := gorgonia.Must(gorgonia.BroadcastHadamardProd(in[0], row(in[1]), nil, []byte{0}))
		return gorgonia.Must(gorgonia.BroadcastAdd(scaled, row(in[2]), nil, []byte{0}))
	}
	testutil.CheckFused(t, values, fused, plain, 1e-12)
}
