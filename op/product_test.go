package op

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

func TestFrozenLinearMatchesMulAndGivesNoWeightGradient(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		rng := rand.New(rand.NewSource(61))
		xv, wv := testutil.RandomDense(rng, dt, 5, 7), testutil.RandomDense(rng, dt, 7, 3)
		results := make([][2][]float64, 2)
		for i, frozen := range []bool{false, true} {
			g := gorgonia.NewGraph()
			x, w := testutil.Input(g, "x", xv), testutil.Input(g, "w", wv)
			var out *gorgonia.Node
			var err error
			if frozen {
				out, err = FrozenLinear(x, w)
			} else {
				out, err = gorgonia.Mul(x, w)
			}
			if err != nil {
				t.Fatal(err)
			}
			cost, _ := testutil.WeightedSum(t, rand.New(rand.NewSource(67)), out)
			grads, err := gorgonia.Grad(cost, x)
			if err != nil {
				t.Fatal(err)
			}
			if frozen {
				if _, err := gorgonia.Grad(cost, w); err == nil {
					t.Fatal("gradient with respect to a frozen weight: expected an error")
				}
			}
			testutil.Run(t, g)
			results[i] = [2][]float64{testutil.Float64s(out.Value()), testutil.Float64s(grads[0].Value())}
		}
		testutil.CloseTo(t, "out", results[1][0], results[0][0], tol)
		testutil.CloseTo(t, "grad x", results[1][1], results[0][1], tol)
	}
}

func TestFrozenLinearGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(71))
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 4, 6))
	w := testutil.Input(g, "w", testutil.RandomDense(rng, tensor.Float64, 6, 2))
	cost, _ := testutil.WeightedSum(t, rng, gorgonia.Must(FrozenLinear(x, w)))
	grads, err := gorgonia.Grad(cost, x)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, g)
	testutil.CloseTo(t, "grad x", testutil.Float64s(grads[0].Value()), testutil.NumericGrad(t, g, cost, x), 1e-7)
}

func TestFrozenLinearLispMachine(t *testing.T) {
	rng := rand.New(rand.NewSource(73))
	xv, wv := testutil.RandomDense(rng, tensor.Float64, 3, 4), testutil.RandomDense(rng, tensor.Float64, 4, 2)
	var want []float64
	for _, lisp := range []bool{false, true} {
		g := gorgonia.NewGraph()
		x, w := testutil.Input(g, "x", xv), testutil.Input(g, "w", wv)
		cost, _ := testutil.WeightedSum(t, rand.New(rand.NewSource(79)), gorgonia.Must(FrozenLinear(x, w)))
		if !lisp {
			grads, err := gorgonia.Grad(cost, x)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Run(t, g)
			want = testutil.Float64s(grads[0].Value())
			continue
		}
		m := gorgonia.NewLispMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Close()
		got, err := x.Grad()
		if err != nil {
			t.Fatal(err)
		}
		testutil.CloseTo(t, "grad x", testutil.Float64s(got), want, 1e-12)
	}
}

func TestMatMulMatchesGorgoniaMul(t *testing.T) {
	rng := rand.New(rand.NewSource(167))
	values := []*tensor.Dense{testutil.RandomDense(rng, tensor.Float64, 5, 7), testutil.RandomDense(rng, tensor.Float64, 7, 3)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(MatMul(in[0], in[1])) }
	plain := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(gorgonia.Mul(in[0], in[1])) }
	testutil.CheckFused(t, values, fused, plain, 1e-12)
}
