package nn

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

func TestAddBiasMatchesBroadcastAdd(t *testing.T) {
	rng := rand.New(rand.NewSource(173))
	values := []*tensor.Dense{testutil.RandomDense(rng, tensor.Float64, 5, 4), testutil.RandomDense(rng, tensor.Float64, 4)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(AddBias(in[0], in[1])) }
	plain := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		row := gorgonia.Must(gorgonia.Reshape(in[1], tensor.Shape{1, 4}))
		return gorgonia.Must(gorgonia.BroadcastAdd(in[0], row, nil, []byte{0}))
	}
	testutil.CheckFused(t, values, fused, plain, 1e-12)
}
