package nn

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

// idsNode adds an int vector input holding ids.
func idsNode(g *gorgonia.ExprGraph, ids []int) *gorgonia.Node {
	v := tensor.New(tensor.WithShape(len(ids)), tensor.WithBacking(append([]int(nil), ids...)))
	return gorgonia.NewVector(g, tensor.Int, gorgonia.WithShape(len(ids)), gorgonia.WithName("ids"), gorgonia.WithValue(v))
}

func TestEmbeddingGathersRowsAndScattersGradients(t *testing.T) {
	ids := []int{3, 0, 3, 5, 1} // a repeated id checks that gradients add up
	rng := rand.New(rand.NewSource(139))
	table := testutil.RandomDense(rng, tensor.Float64, 6, 4)
	for _, lisp := range []bool{false, true} {
		build := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
			return gorgonia.Must(Embedding(in[0], idsNode(in[0].Graph(), ids)))
		}
		res := testutil.RunGrads(t, []*tensor.Dense{table}, build, lisp)
		want := make([]float64, 0, len(ids)*4)
		for _, id := range ids {
			want = append(want, table.Data().([]float64)[id*4:(id+1)*4]...)
		}
		testutil.CloseTo(t, "rows", res.Out, want, 0)
		if !lisp {
			testutil.CloseTo(t, "grad table", res.Grads[0], testutil.NumericGrad(t, res.G, res.Cost, res.In[0]), 1e-7)
		}
	}
}

func TestEmbeddingRejectsBadIDs(t *testing.T) {
	g := gorgonia.NewGraph()
	table := testutil.Input(g, "table", testutil.RandomDense(rand.New(rand.NewSource(149)), tensor.Float64, 6, 4))
	gorgonia.Must(Embedding(table, idsNode(g, []int{1, 6})))
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err == nil || !strings.Contains(err.Error(), "id 6 at position 1, expected one in the vocabulary [0, 6)") {
		t.Fatalf("error %v, expected one naming the id, its position and the vocabulary", err)
	}
	if _, err := Embedding(table, table); err == nil || !strings.Contains(err.Error(), "expected a vector of int") {
		t.Fatalf("error %v, expected one about the ids' type", err)
	}
}
