package nn

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

func TestColumnsMatchesGorgoniaSlice(t *testing.T) {
	rng := rand.New(rand.NewSource(191))
	values := []*tensor.Dense{testutil.RandomDense(rng, tensor.Float64, 4, 9)}
	fused := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(Columns(in[0], 3, 7)) }
	plain := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		return gorgonia.Must(gorgonia.Slice(in[0], nil, gorgonia.S(3, 7)))
	}
	testutil.CheckFused(t, values, fused, plain, 0)
}

func TestColumnsRejectsBadRanges(t *testing.T) {
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rand.New(rand.NewSource(193)), tensor.Float64, 2, 5))
	for _, r := range [][2]int{{-1, 2}, {3, 3}, {2, 6}} {
		if _, err := Columns(x, r[0], r[1]); err == nil || !strings.Contains(err.Error(), "expected 0 ≤ from < to ≤ 5") {
			t.Errorf("Columns(%d, %d): error %v", r[0], r[1], err)
		}
	}
}
