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

func TestRMSNormMatchesPlainOps(t *testing.T) {
	rng := rand.New(rand.NewSource(109))
	values := []*tensor.Dense{testutil.RandomDense(rng, tensor.Float64, 6, 8), testutil.RandomDense(rng, tensor.Float64, 8)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		return gorgonia.Must(RMSNorm(in[0], in[1], 1e-5))
	}
	plainNorm := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		return gorgonia.Must(plain.RMSNorm(in[0], in[1], 1e-5))
	}
	testutil.CheckFused(t, values, fused, plainNorm, 1e-10)
}

func TestLayerNormMatchesPlainOps(t *testing.T) {
	rng := rand.New(rand.NewSource(113))
	values := []*tensor.Dense{testutil.RandomDense(rng, tensor.Float64, 6, 8), testutil.RandomDense(rng, tensor.Float64, 8), testutil.RandomDense(rng, tensor.Float64, 8)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		return gorgonia.Must(LayerNorm(in[0], in[1], in[2], 1e-6))
	}
	plainNorm := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		return gorgonia.Must(plain.LayerNorm(in[0], in[1], in[2], 1e-6))
	}
	testutil.CheckFused(t, values, fused, plainNorm, 1e-10)
}

func TestNormsRejectBadInputs(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewSource(127))
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 4, 6))
	w := testutil.Input(g, "w", testutil.RandomDense(rng, tensor.Float64, 6))
	short := testutil.Input(g, "short", testutil.RandomDense(rng, tensor.Float64, 5))
	w32 := testutil.Input(g, "w32", testutil.RandomDense(rng, tensor.Float32, 6))
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"weight of the wrong width", second(RMSNorm(x, short, 1e-5)), `"short" has shape (5), expected (6)`},
		{"bias of the wrong width", second(LayerNorm(x, w, short, 1e-5)), `"short" has shape (5)`},
		{"negative eps", second(RMSNorm(x, w, -1)), "eps -1"},
		{"dtype mismatch", second(RMSNorm(x, w32, 1e-5)), "float32"},
		{"vector input", second(LayerNorm(w, w, w, 1e-5)), "(6)"},
		{"nil bias", second(LayerNorm(x, w, nil, 1e-5)), "bias is nil"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, expected one containing %q", c.name, c.err, c.want)
		}
	}
}

// second returns the error of a testutil.Builder's result.
func second(_ *gorgonia.Node, err error) error { return err }
