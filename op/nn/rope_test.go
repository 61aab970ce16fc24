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

// ropeByHand is HuggingFace's apply_rotary_pos_emb written out:
// q·cos + rotate_half(q)·sin with cos, sin repeated over both halves.
func ropeByHand(x []float64, d, heads, seqLen int, base float64) []float64 {
	dh := d / heads
	out := make([]float64, len(x))
	for r := 0; r*d < len(x); r++ {
		pos := float64(r % seqLen)
		for h := 0; h < heads; h++ {
			for j := 0; j < dh; j++ {
				i := j % (dh / 2)
				theta := pos / math.Pow(base, float64(2*i)/float64(dh))
				var rotated float64 // rotate_half: (−x2, x1)
				if j < dh/2 {
					rotated = -x[r*d+h*dh+j+dh/2]
				} else {
					rotated = x[r*d+h*dh+j-dh/2]
				}
				out[r*d+h*dh+j] = x[r*d+h*dh+j]*math.Cos(theta) + rotated*math.Sin(theta)
			}
		}
	}
	return out
}

func TestRoPEMatchesHuggingFaceFormula(t *testing.T) {
	rng := rand.New(rand.NewSource(131))
	xv := testutil.RandomDense(rng, tensor.Float64, 2*5, 12) // 2 sequences of 5 tokens, 2 heads of 6
	build := func(t *testing.T, in gorgonia.Nodes) *gorgonia.Node {
		return gorgonia.Must(RoPE(in[0], 2, 5, 10000))
	}
	res := testutil.RunGrads(t, []*tensor.Dense{xv}, build, false)
	testutil.CloseTo(t, "rope", res.Out, ropeByHand(xv.Data().([]float64), 12, 2, 5, 10000), 1e-12)
	testutil.CloseTo(t, "grad x", res.Grads[0], testutil.NumericGrad(t, res.G, res.Cost, res.In[0]), 1e-7)
	lisp := testutil.RunGrads(t, []*tensor.Dense{xv}, build, true)
	testutil.CloseTo(t, "LispMachine grad x", lisp.Grads[0], res.Grads[0], 1e-12)
}

func TestRoPERejectsBadShapes(t *testing.T) {
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rand.New(rand.NewSource(137)), tensor.Float64, 6, 12))
	cases := []struct {
		heads, seq int
		base       float64
		want       string
	}{
		{5, 3, 1e4, "5 heads for the width 12 of \"x\", expected a positive count that divides it"},
		{4, 3, 1e4, "head size 3"},
		{2, 4, 1e4, "sequence length 4 for the 6 rows of \"x\", expected a positive length that divides them"},
		{2, 3, 1, "base 1"},
	}
	for _, c := range cases {
		if _, err := RoPE(x, c.heads, c.seq, c.base); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("RoPE(heads=%d, seq=%d, base=%g): error %v, expected %q", c.heads, c.seq, c.base, err, c.want)
		}
	}
}
