package nn

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/op/plain"
)

func TestSwiGLUMatchesElementwiseOps(t *testing.T) {
	rng := rand.New(rand.NewSource(103))
	values := []*tensor.Dense{testutil.RandomDense(rng, tensor.Float64, 5, 7), testutil.RandomDense(rng, tensor.Float64, 5, 7)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(SwiGLU(in[0], in[1])) }
	plainSwiGLU := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(plain.SwiGLU(in[0], in[1])) }
	testutil.CheckFused(t, values, fused, plainSwiGLU, 1e-10)
}

func TestSwiGLURejectsMismatchedShapes(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewSource(107))
	a := testutil.Input(g, "gate", testutil.RandomDense(rng, tensor.Float64, 4, 6))
	b := testutil.Input(g, "up", testutil.RandomDense(rng, tensor.Float64, 4, 5))
	if _, err := SwiGLU(a, b); err == nil || !strings.Contains(err.Error(), "(4, 6)") || !strings.Contains(err.Error(), "(4, 5)") {
		t.Fatalf("error %v, expected one naming both shapes", err)
	}
}
