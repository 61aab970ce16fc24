package nn

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

// TestBadInputsNameTheOpOnce feeds every constructor a bad input and wants
// an error that starts "nn: " once and names what was wrong; "nn: AddBias:
// nn: AddBias: …" and a gorgonia message without a prefix were both real.
func TestBadInputsNameTheOpOnce(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	g := gorgonia.NewGraph()
	in := func(name string, dt tensor.Dtype, shape ...int) *gorgonia.Node {
		return testutil.Input(g, name, testutil.RandomDense(rng, dt, shape...))
	}
	x, x32, w, vec := in("x", tensor.Float64, 4, 8), in("x32", tensor.Float32, 4, 8), in("w", tensor.Float64, 8), in("vec", tensor.Float64, 8)
	other := testutil.Input(gorgonia.NewGraph(), "other", testutil.RandomDense(rng, tensor.Float64, 4, 8))
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"bias of another dtype", func() error { _, err := AddBias(x32, w); return err }, `AddBias: "x32" has dtype float32 and "w" float64, expected one dtype`},
		{"bias of another graph", func() error { _, err := AddBias(other, w); return err }, "belong to different graphs"},
		{"swiglu dtypes", func() error { _, err := SwiGLU(x, x32); return err }, `SwiGLU: "x" has dtype float64 and "x32" float32`},
		{"swiglu of a vector", func() error { _, err := SwiGLU(vec, vec); return err }, `SwiGLU gate "vec" has shape (8), expected a matrix`},
		{"gelu of nil", func() error { _, err := GELU(nil); return err }, "GELU input is nil"},
		{"rmsnorm eps NaN", func() error { _, err := RMSNorm(x, w, math.NaN()); return err }, "eps NaN, expected a finite number ≥ 0"},
		{"layernorm weight of another dtype", func() error { _, err := LayerNorm(x32, w, w, 1e-5); return err }, `"x32" has dtype float32 and "w" float64`},
		{"rope heads", func() error { _, err := RoPE(x, 3, 4, 10000); return err }, "RoPE"},
		{"dropout 1", func() error { _, err := Dropout(x, 1, 1); return err }, "Dropout probability 1, expected a value in [0, 1)"},
		{"rope 0 heads", func() error { _, err := RoPE(x, 0, 4, 10000); return err }, "0 heads for the width 8 of \"x\", expected a positive count that divides it"},
		{"bias nil", func() error { _, err := AddBias(x, nil); return err }, "AddBias: bias is nil"},
		{"embedding ids of another graph", func() error {
			ids := gorgonia.NewVector(gorgonia.NewGraph(), tensor.Int, gorgonia.WithShape(2), gorgonia.WithName("ids"))
			_, err := Embedding(x, ids)
			return err
		}, `Embedding: table "x" and ids "ids" belong to different graphs`},
		{"cross-entropy targets of another graph", func() error {
			ids := gorgonia.NewVector(gorgonia.NewGraph(), tensor.Int, gorgonia.WithShape(4), gorgonia.WithName("ids"))
			_, err := CrossEntropy(x, ids, -100)
			return err
		}, `CrossEntropy: logits "x" and targets "ids" belong to different graphs`},
		{"columns beyond", func() error { _, err := Columns(x, 4, 9); return err }, `Columns [4, 9) of "x", expected 0 ≤ from < to ≤ 8`},
	} {
		err := c.err()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !testutil.Prefixed(err.Error(), "nn") {
			t.Errorf("%s: error %q, expected one \"nn: \" and %q", c.name, err, c.want)
		}
	}
}
