package nn

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/op/internal/optest"
)

func TestGELUMatchesTheFormula(t *testing.T) {
	rng := rand.New(rand.NewSource(163))
	values := []*tensor.Dense{optest.RandomDense(rng, tensor.Float64, 5, 6)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(GELU(in[0])) }
	// gorgonia has no erf op, so the forward is checked against the formula
	// and the gradient against finite differences.
	res := optest.RunGrads(t, values, fused, false)
	x := values[0].Data().([]float64)
	want := make([]float64, len(x))
	for i, xi := range x {
		want[i] = 0.5 * xi * (1 + math.Erf(xi/math.Sqrt2))
	}
	optest.CloseTo(t, "gelu", res.Out, want, 1e-15)
	optest.CloseTo(t, "grad x", res.Grads[0], optest.NumericGrad(t, res.G, res.Cost, res.In[0]), 1e-7)
	lisp := optest.RunGrads(t, values, fused, true)
	optest.CloseTo(t, "LispMachine grad x", lisp.Grads[0], res.Grads[0], 1e-15)
}
