package op

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestFrozenLinearMatchesMulAndGivesNoWeightGradient(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		rng := rand.New(rand.NewSource(61))
		xv, wv := randomDense(rng, dt, 5, 7), randomDense(rng, dt, 7, 3)
		results := make([][2][]float64, 2)
		for i, frozen := range []bool{false, true} {
			g := gorgonia.NewGraph()
			x, w := input(g, "x", xv), input(g, "w", wv)
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
			cost, _ := weightedSum(t, rand.New(rand.NewSource(67)), out)
			grads, err := gorgonia.Grad(cost, x)
			if err != nil {
				t.Fatal(err)
			}
			if frozen {
				if _, err := gorgonia.Grad(cost, w); err == nil {
					t.Fatal("gradient with respect to a frozen weight: expected an error")
				}
			}
			run(t, g)
			results[i] = [2][]float64{float64s(t, out.Value()), float64s(t, grads[0].Value())}
		}
		closeTo(t, "out", results[1][0], results[0][0], tol)
		closeTo(t, "grad x", results[1][1], results[0][1], tol)
	}
}

func TestFrozenLinearGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(71))
	g := gorgonia.NewGraph()
	x := input(g, "x", randomDense(rng, tensor.Float64, 4, 6))
	w := input(g, "w", randomDense(rng, tensor.Float64, 6, 2))
	cost, _ := weightedSum(t, rng, gorgonia.Must(FrozenLinear(x, w)))
	grads, err := gorgonia.Grad(cost, x)
	if err != nil {
		t.Fatal(err)
	}
	run(t, g)
	closeTo(t, "grad x", float64s(t, grads[0].Value()), numericGrad(t, g, cost, x), 1e-7)
}

func TestFrozenLinearLispMachine(t *testing.T) {
	rng := rand.New(rand.NewSource(73))
	xv, wv := randomDense(rng, tensor.Float64, 3, 4), randomDense(rng, tensor.Float64, 4, 2)
	var want []float64
	for _, lisp := range []bool{false, true} {
		g := gorgonia.NewGraph()
		x, w := input(g, "x", xv), input(g, "w", wv)
		cost, _ := weightedSum(t, rand.New(rand.NewSource(79)), gorgonia.Must(FrozenLinear(x, w)))
		if !lisp {
			grads, err := gorgonia.Grad(cost, x)
			if err != nil {
				t.Fatal(err)
			}
			run(t, g)
			want = float64s(t, grads[0].Value())
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
		closeTo(t, "grad x", float64s(t, got), want, 1e-12)
	}
}

func TestMatMulMatchesGorgoniaMul(t *testing.T) {
	rng := rand.New(rand.NewSource(167))
	values := []*tensor.Dense{randomDense(rng, tensor.Float64, 5, 7), randomDense(rng, tensor.Float64, 7, 3)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(MatMul(in[0], in[1])) }
	plain := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(gorgonia.Mul(in[0], in[1])) }
	checkFused(t, values, fused, plain, 1e-12)
}
