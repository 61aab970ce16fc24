package nn

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

func TestGELUMatchesTheFormula(t *testing.T) {
	rng := rand.New(rand.NewSource(163))
	values := []*tensor.Dense{testutil.RandomDense(rng, tensor.Float64, 5, 6)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(GELU(in[0])) }
	// gorgonia has no erf op, so the forward is checked against the formula
	// and the gradient against finite differences.
	res := testutil.RunGrads(t, values, fused, false)
	x := values[0].Data().([]float64)
	want := make([]float64, len(x))
	for i, xi := range x {
		want[i] = 0.5 * xi * (1 + math.Erf(xi/math.Sqrt2))
	}
	testutil.CloseTo(t, "gelu", res.Out, want, 1e-15)
	testutil.CloseTo(t, "grad x", res.Grads[0], testutil.NumericGrad(t, res.G, res.Cost, res.In[0]), 1e-7)
	lisp := testutil.RunGrads(t, values, fused, true)
	testutil.CloseTo(t, "LispMachine grad x", lisp.Grads[0], res.Grads[0], 1e-15)
}
