package nn

import (
	"fmt"
	"hash"
	"math"
	"sync"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/op/internal/opkit"
)

// RoPE applies rotary position embeddings (Su et al., arXiv 2104.09864) in
// HuggingFace LLaMA's "rotate half" layout: x: (B·T, D) → (B·T, D), rows
// ordered sequence by sequence, so row r is at position r mod seqLen. Each
// head's dh = D/heads features are split in halves, and the pair
// (i, i + dh/2) is rotated by the angle pos · base^(−2i/dh). base is
// rope_theta (10000 in LLaMA). The map is a rotation, so its gradient is the
// inverse rotation of g and nothing of the forward pass is kept.
func RoPE(x *gorgonia.Node, heads, seqLen int, base float64) (*gorgonia.Node, error) {
	if err := opkit.CheckMatrix(x, "nn: RoPE input"); err != nil {
		return nil, err
	}
	n, d := x.Shape()[0], x.Shape()[1]
	switch {
	case heads <= 0 || d%heads != 0:
		return nil, errors.Errorf("nn: RoPE: %d heads for the width %d of %q, expected a positive count that divides it", heads, d, x.Name())
	case (d/heads)%2 != 0:
		return nil, errors.Errorf("nn: RoPE: head size %d (width %d / %d heads) is odd, expected an even size", d/heads, d, heads)
	case seqLen <= 0 || n%seqLen != 0:
		return nil, errors.Errorf("nn: RoPE: sequence length %d for the %d rows of %q, expected a positive length that divides them", seqLen, n, x.Name())
	case !(base > 1) || math.IsInf(base, 0):
		return nil, errors.Errorf("nn: RoPE: base %g, expected a finite number > 1", base)
	}
	return gorgonia.ApplyOp(&ropeOp{heads: heads, seqLen: seqLen, base: base}, x)
}

// ropeOp rotates forward, or backward (the inverse rotation) for gradients.
type ropeOp struct {
	opkit.Pure
	opkit.Cheap
	heads, seqLen int
	base          float64
	inverse       bool
}

func (o *ropeOp) Arity() int { return 1 }

func (o *ropeOp) Type() hm.Type { return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2)) }

func (o *ropeOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	return opkit.SameShape(o, ds[0])
}

func (o *ropeOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *ropeOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *ropeOp) String() string {
	return fmt.Sprintf("RoPE{heads=%d, seq=%d, base=%g, inverse=%t}", o.heads, o.seqLen, o.base, o.inverse)
}

func (o *ropeOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *ropeOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *ropeOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	x := in[0]
	dt, err := opkit.SameFloat(x)
	if err == nil && (x.Dims() != 2 || x.Shape()[1]%o.heads != 0 || x.Shape()[0]%o.seqLen != 0) {
		err = errors.Errorf("input shape %v, expected (N, D) with N a multiple of %d positions and D of %d heads", x.Shape(), o.seqLen, o.heads)
	}
	return dt, x.Shape(), err
}

func (o *ropeOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	x := in[0]
	switch od := out.Data().(type) {
	case []float64:
		rotate(o, od, x.Data().([]float64), x.Shape()[1])
	case []float32:
		rotate(o, od, x.Data().([]float32), x.Shape()[1])
	}
	return nil
}

// rotate writes the rotated rows of x into out.
func rotate[T opkit.Float](o *ropeOp, out, x []T, d int) {
	dh := d / o.heads
	half := dh / 2
	cos, sin := ropeAngles(ropeKey{seqLen: o.seqLen, dh: dh, base: o.base, inverse: o.inverse})
	for r := 0; r*d < len(x); r++ {
		c, s := cos[(r%o.seqLen)*half:][:half], sin[(r%o.seqLen)*half:][:half]
		for h := 0; h < o.heads; h++ {
			off := r*d + h*dh
			for i := 0; i < half; i++ {
				a, b := float64(x[off+i]), float64(x[off+i+half])
				out[off+i] = T(a*c[i] - b*s[i])
				out[off+i+half] = T(b*c[i] + a*s[i])
			}
		}
	}
}

// ropeKey is what RoPE's angles depend on.
type ropeKey struct {
	seqLen, dh int
	base       float64
	inverse    bool
}

// ropeTables holds the cosines and sines (negated for the inverse rotation) of every
// (position, pair), seqLen·dh/2 of each, by ropeKey: computed on first use, the same for
// every layer and step.
var ropeTables struct {
	sync.Mutex
	m map[ropeKey][2][]float64
}

func ropeAngles(k ropeKey) (cos, sin []float64) {
	ropeTables.Lock()
	defer ropeTables.Unlock()
	if t, ok := ropeTables.m[k]; ok {
		return t[0], t[1]
	}
	half := k.dh / 2
	sign := 1.0
	if k.inverse {
		sign = -1
	}
	cos, sin = make([]float64, k.seqLen*half), make([]float64, k.seqLen*half)
	for pos := 0; pos < k.seqLen; pos++ {
		for i := 0; i < half; i++ {
			angle := float64(pos) * math.Pow(k.base, -2*float64(i)/float64(k.dh))
			cos[pos*half+i], sin[pos*half+i] = math.Cos(angle), sign*math.Sin(angle)
		}
	}
	if ropeTables.m == nil {
		ropeTables.m = make(map[ropeKey][2][]float64)
	}
	ropeTables.m[k] = [2][]float64{cos, sin}
	return cos, sin
}

func (o *ropeOp) inverted() *ropeOp {
	return &ropeOp{heads: o.heads, seqLen: o.seqLen, base: o.base, inverse: !o.inverse}
}

func (o *ropeOp) DiffWRT(int) []bool { return []bool{true} }

func (o *ropeOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return opkit.SymDiffBy(o, o.inverted(), grad)
}

func (o *ropeOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	return opkit.DoDiffBy(o, o.inverted(), inputs[0], output)
}

var (
	_ gorgonia.Op              = (*ropeOp)(nil)
	_ gorgonia.SDOp            = (*ropeOp)(nil)
	_ gorgonia.ADOp            = (*ropeOp)(nil)
	_ gorgonia.UsePreallocDoer = (*ropeOp)(nil)
)
