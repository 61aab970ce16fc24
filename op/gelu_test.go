package op

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestGELUMatchesTheFormula(t *testing.T) {
	rng := rand.New(rand.NewSource(163))
	values := []*tensor.Dense{randomDense(rng, tensor.Float64, 5, 6)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(GELU(in[0])) }
	// gorgonia has no erf op, so the forward is checked against the formula
	// and the gradient against finite differences.
	res := runGrads(t, values, fused, false)
	x := values[0].Data().([]float64)
	want := make([]float64, len(x))
	for i, xi := range x {
		want[i] = 0.5 * xi * (1 + math.Erf(xi/math.Sqrt2))
	}
	closeTo(t, "gelu", res.out, want, 1e-15)
	closeTo(t, "grad x", res.grads[0], numericGrad(t, res.g, res.cost, res.in[0]), 1e-7)
	lisp := runGrads(t, values, fused, true)
	closeTo(t, "LispMachine grad x", lisp.grads[0], res.grads[0], 1e-15)
}
