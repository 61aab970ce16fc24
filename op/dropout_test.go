package op

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestDropoutMaskScaleAndGradient(t *testing.T) {
	const p = 0.3
	rng := rand.New(rand.NewSource(179))
	xv := randomDense(rng, tensor.Float64, 200, 50)
	g := gorgonia.NewGraph()
	x := input(g, "x", xv)
	out := gorgonia.Must(Dropout(x, p, 7))
	cost, r := weightedSum(t, rng, out)
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
		ys, xs, gx, rs := float64s(t, out.Value()), float64s(t, x.Value()), float64s(t, grads[0].Value()), float64s(t, r.Value())
		dropped := 0
		for i := range ys {
			switch {
			case ys[i] == 0:
				dropped++
				if gx[i] != 0 {
					t.Fatalf("run %d: entry %d dropped in the forward pass but has gradient %g", run, i, gx[i])
				}
			default:
				closeTo(t, "kept entry", []float64{ys[i]}, []float64{xs[i] / (1 - p)}, 1e-15)
				closeTo(t, "kept gradient", []float64{gx[i]}, []float64{rs[i] / (1 - p)}, 1e-15)
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
	x := input(g, "x", randomDense(rand.New(rand.NewSource(181)), tensor.Float64, 2, 2))
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		if _, err := Dropout(x, p, 1); err == nil {
			t.Errorf("Dropout(p=%g): no error", p)
		}
	}
	if y, err := Dropout(x, 0, 1); err != nil || y != x {
		t.Errorf("Dropout(p=0) = %v, %v; expected x itself", y, err)
	}
}
