package nn

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/op/plain"
)

// TestFusedOpsPeakBelowPlainCompositions measures each fused op's training
// step against the gorgonia composition it replaces, float32, under
// machine: bytes are exact, so the comparison is too.
func TestFusedOpsPeakBelowPlainCompositions(t *testing.T) {
	rng := rand.New(rand.NewSource(107))
	x, w, b := testutil.RandomDense(rng, tensor.Float32, 256, 64), testutil.RandomDense(rng, tensor.Float32, 64), testutil.RandomDense(rng, tensor.Float32, 64)
	gate := testutil.RandomDense(rng, tensor.Float32, 256, 64)
	for _, c := range []struct {
		name         string
		values       []*tensor.Dense
		fused, plain testutil.Builder
	}{
		{"RMSNorm", []*tensor.Dense{x, w},
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
				return gorgonia.Must(RMSNorm(in[0], in[1], 1e-6))
			},
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
				return gorgonia.Must(plain.RMSNorm(in[0], in[1], 1e-6))
			}},
		{"LayerNorm", []*tensor.Dense{x, w, b},
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
				return gorgonia.Must(LayerNorm(in[0], in[1], in[2], 1e-6))
			},
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
				return gorgonia.Must(plain.LayerNorm(in[0], in[1], in[2], 1e-6))
			}},
		{"SwiGLU", []*tensor.Dense{gate, x},
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(SwiGLU(in[0], in[1])) },
			func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node { return gorgonia.Must(plain.SwiGLU(in[0], in[1])) }},
	} {
		fused, composed := testutil.PeakOf(t, c.values, c.fused), testutil.PeakOf(t, c.values, c.plain)
		t.Logf("%s: fused %d bytes, plain %d bytes (%.2fx)", c.name, fused, composed, float64(composed)/float64(fused))
		if fused >= composed {
			t.Errorf("%s: fused peak %d bytes, plain %d", c.name, fused, composed)
		}
	}
}
