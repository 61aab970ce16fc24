package nn

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

func TestDropoutMaskScaleAndGradient(t *testing.T) {
	const p = 0.3
	rng := rand.New(rand.NewSource(179))
	xv := testutil.RandomDense(rng, tensor.Float64, 200, 50)
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", xv)
	out := gorgonia.Must(Dropout(x, p, 7))
	cost, r := testutil.WeightedSum(t, rng, out)
	grads, err := gorgonia.Grad(cost, x)
	if err != nil {
		t.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	var first []float64
	for run := 0; run < 2; run++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		ys, xs, gx, rs := testutil.Float64s(out.Value()), testutil.Float64s(x.Value()), testutil.Float64s(grads[0].Value()), testutil.Float64s(r.Value())
		dropped := 0
		for i := range ys {
			switch {
			case ys[i] == 0:
				dropped++
				if gx[i] != 0 {
					t.Fatalf("run %d: entry %d dropped in the forward pass but has gradient %g", run, i, gx[i])
				}
			default:
				testutil.CloseTo(t, "kept entry", []float64{ys[i]}, []float64{xs[i] / (1 - p)}, 1e-15)
				testutil.CloseTo(t, "kept gradient", []float64{gx[i]}, []float64{rs[i] / (1 - p)}, 1e-15)
			}
		}
		// 10,000 Bernoulli(0.3) draws: 5 standard deviations is ±229.
		if n := float64(len(ys)); math.Abs(float64(dropped)-p*n) > 5*math.Sqrt(n*p*(1-p)) {
			t.Fatalf("run %d: dropped %d of %v, expected about %v", run, dropped, n, p*n)
		}
		if run == 0 {
			first = ys
		} else if equal(first, ys) {
			t.Fatal("the second run reused the first run's mask")
		}
	}
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDropoutRejectsBadProbability(t *testing.T) {
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rand.New(rand.NewSource(181)), tensor.Float64, 2, 2))
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		if _, err := Dropout(x, p, 1); err == nil {
			t.Errorf("Dropout(p=%g): no error", p)
		}
	}
	if y, err := Dropout(x, 0, 1); err != nil || y != x {
		t.Errorf("Dropout(p=0) = %v, %v; expected x itself", y, err)
	}
}

// TestDropoutFloat32AndLispMachine runs the same dropout (seed, p, input) under
// cost = Σ dropout(x)² three ways: TapeMachine in float64, TapeMachine in float32 and
// LispMachine in float64. The first run of each draws the same mask, so each gradient must
// be 2x/(1−p)² where the float64 run kept an entry and 0 where it dropped it (float32 to
// its precision), and LispMachine's forward value x/(1−p) or 0.
func TestDropoutFloat32AndLispMachine(t *testing.T) {
	const p = 0.25
	x64 := testutil.RandomDense(rand.New(rand.NewSource(191)), tensor.Float64, 30, 20)
	build := func(dt tensor.Dtype) (*gorgonia.ExprGraph, *gorgonia.Node, *gorgonia.Node, *gorgonia.Node) {
		g := gorgonia.NewGraph()
		xv := x64
		if dt == tensor.Float32 {
			f := make([]float32, x64.Size())
			for i, v := range x64.Data().([]float64) {
				f[i] = float32(v)
			}
			xv = tensor.New(tensor.WithShape(x64.Shape()...), tensor.WithBacking(f))
		}
		x := testutil.Input(g, "x", xv)
		out := gorgonia.Must(Dropout(x, p, 11))
		cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(out))))
		return g, x, out, cost
	}
	tapeGrad := func(dt tensor.Dtype) []float64 {
		g, x, _, cost := build(dt)
		gs, err := gorgonia.Grad(cost, x)
		if err != nil {
			t.Fatal(err)
		}
		testutil.Run(t, g)
		return testutil.Float64s(gs[0].Value())
	}
	// LispMachine, forward only for the value (backward passes overwrite it) and whole for
	// the gradient, each on a fresh copy, which draws the same mask.
	lisp := func(opts ...gorgonia.VMOpt) (*gorgonia.Node, *gorgonia.Node) {
		g, x, o, _ := build(tensor.Float64)
		m := gorgonia.NewLispMachine(g, opts...)
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		return x, o
	}
	grad64, grad32 := tapeGrad(tensor.Float64), tapeGrad(tensor.Float32)
	_, o := lisp(gorgonia.ExecuteFwdOnly())
	x, _ := lisp()
	gl, err := x.Grad()
	if err != nil {
		t.Fatal(err)
	}
	xs, outLisp, gradLisp := x64.Data().([]float64), testutil.Float64s(o.Value()), testutil.Float64s(gl)
	wantOut, wantGrad := make([]float64, len(xs)), make([]float64, len(xs))
	dropped := 0
	for i, xi := range xs {
		if grad64[i] == 0 {
			dropped++
			continue
		}
		wantOut[i], wantGrad[i] = xi/(1-p), 2*xi/((1-p)*(1-p))
	}
	if dropped == 0 || dropped == len(xs) {
		t.Fatalf("dropped %d of %d", dropped, len(xs))
	}
	testutil.CloseTo(t, "float64 gradient", grad64, wantGrad, 1e-15)
	testutil.CloseTo(t, "float32 gradient", grad32, wantGrad, 1e-5)
	testutil.CloseTo(t, "LispMachine gradient", gradLisp, wantGrad, 1e-15)
	testutil.CloseTo(t, "LispMachine output", outLisp, wantOut, 1e-15)
}
