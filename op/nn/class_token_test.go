package nn

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

func TestClassTokenMatchesTheDefinition(t *testing.T) {
	const batch, patches, d = 2, 3, 4
	rng := rand.New(rand.NewSource(151))
	values := []*tensor.Dense{
		testutil.RandomDense(rng, tensor.Float64, batch*patches, d),
		testutil.RandomDense(rng, tensor.Float64, d),
		testutil.RandomDense(rng, tensor.Float64, patches+1, d),
	}
	build := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		return gorgonia.Must(ClassToken(in[0], in[1], in[2], batch))
	}
	res := testutil.RunGrads(t, values, build, false)
	x, cls, pos := values[0].Data().([]float64), values[1].Data().([]float64), values[2].Data().([]float64)
	var want []float64
	for b := 0; b < batch; b++ {
		for r := 0; r <= patches; r++ {
			for j := 0; j < d; j++ {
				v := pos[r*d+j]
				if r == 0 {
					v += cls[j]
				} else {
					v += x[(b*patches+r-1)*d+j]
				}
				want = append(want, v)
			}
		}
	}
	testutil.CloseTo(t, "output", res.Out, want, 1e-15)
	for i := range values {
		testutil.CloseTo(t, "gradient", res.Grads[i], testutil.NumericGrad(t, res.G, res.Cost, res.In[i]), 1e-7)
	}
	lisp := testutil.RunGrads(t, values, build, true)
	for i := range values {
		testutil.CloseTo(t, "LispMachine gradient", lisp.Grads[i], res.Grads[i], 1e-12)
	}
}

func TestClassTokenRejectsBadShapes(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewSource(157))
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 6, 4))
	cls := testutil.Input(g, "cls", testutil.RandomDense(rng, tensor.Float64, 4))
	pos := testutil.Input(g, "pos", testutil.RandomDense(rng, tensor.Float64, 4, 4))
	if _, err := ClassToken(x, cls, pos, 4); err == nil || !strings.Contains(err.Error(), "batch 4 for the 6 rows of \"x\", expected a positive count that divides them") {
		t.Errorf("error %v", err)
	}
	if _, err := ClassToken(x, cls, pos, 3); err == nil || !strings.Contains(err.Error(), `"pos" has shape (4, 4), expected (3, 4)`) {
		t.Errorf("error %v", err)
	}
}
