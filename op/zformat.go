package op

import (
	"fmt"
	"sync"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/op/internal/opkit"
)

// ZFormat is how a Projection keeps z = Compress(x), the only activation
// VeLoRA's backward pass reads. The 16-bit formats halve z's bytes for a
// float32 model (a quarter for float64): z is a tensor.Uint16 node holding
// the bit patterns, rounded to nearest (ties to even) when Compress writes
// them and widened back, exactly, by every op that reads z (the weight
// gradient, Reconstruct, ScaleShift's scale gradient).
//
// Rounding z to bfloat16 changes each entry by at most 2⁻⁸ of itself, far
// less than VeLoRA's rank-1 projection discards: on random data the weight
// gradient's relative error is sqrt(1 − 1/M) from the projection (0.94 to
// 0.98 for M = 8 to 32) and 1.7e-3 more from bfloat16, 2.1e-4 from float16
// (TestHalfZErrorIsFarBelowVeLoRAs). A z in a 16-bit format is not
// differentiable: Compress's and Reconstruct's gradients need the full
// format.
type ZFormat uint8

const (
	// ZFull keeps z in the projection's dtype (float32 or float64). The
	// default.
	ZFull ZFormat = iota
	// ZBFloat16 keeps z in bfloat16: float32's exponent range with 8
	// significant bits.
	ZBFloat16
	// ZFloat16 keeps z in IEEE binary16: 11 significant bits, but magnitudes
	// beyond 65504 become ±Inf and those below 6.1e-5 lose precision.
	ZFloat16
)

// zFormatNames are the formats' names, as ParseZFormat reads them.
var zFormatNames = [...]string{ZFull: "", ZBFloat16: "bf16", ZFloat16: "fp16"}

// String is the format's name: "" for ZFull, "bf16", "fp16".
func (f ZFormat) String() string {
	if int(f) < len(zFormatNames) {
		return zFormatNames[f]
	}
	return fmt.Sprintf("ZFormat(%d)", uint8(f))
}

// ParseZFormat reads a format's name: "" for ZFull, "bf16" and "fp16".
func ParseZFormat(name string) (ZFormat, error) {
	for f, n := range zFormatNames {
		if n == name {
			return ZFormat(f), nil
		}
	}
	return 0, errors.Errorf(`op: z format %q, expected "" (the model's dtype), "bf16" or "fp16"`, name)
}

// Validate returns an error unless f is one of the formats.
func (f ZFormat) Validate() error {
	if int(f) >= len(zFormatNames) {
		return errors.Errorf("z format %d, expected ZFull, ZBFloat16 or ZFloat16", uint8(f))
	}
	return nil
}

// ProjectionOption configures NewProjection.
type ProjectionOption func(*Projection) error

// WithZFormat keeps z in format f. Default ZFull.
func WithZFormat(f ZFormat) ProjectionOption {
	return func(p *Projection) error {
		if err := f.Validate(); err != nil {
			return err
		}
		p.z = f
		return nil
	}
}

// ZFormat is how z is kept.
func (p *Projection) ZFormat() ZFormat { return p.z }

// ZDtype is the dtype of z's node: v's dtype in the full format, Uint16 in
// the 16-bit ones.
func (p *Projection) ZDtype() tensor.Dtype {
	if p.z == ZFull {
		return p.Dtype()
	}
	return tensor.Uint16
}

// zType is z's type in an op's signature: a matrix of the type variable
// 'a' (v's and x's dtype) in the full format, of uint16 otherwise.
func (p *Projection) zType() hm.Type {
	if p.z == ZFull {
		return opkit.TensorType(2)
	}
	return gorgonia.TensorType{Dims: 2, Of: tensor.Uint16}
}

// checkZ checks, when a graph is built, that z is a matrix of the dtype
// the projection keeps z in.
func checkZ(z *gorgonia.Node, p *Projection) error {
	if z == nil {
		return errors.New("z is nil")
	}
	if z.Dims() != 2 {
		return errors.Errorf("z %q has shape %v, expected a matrix (T, K)", z.Name(), z.Shape())
	}
	if z.Dtype() != p.ZDtype() {
		return errors.Errorf("z %q has dtype %v, expected %v: projection %q keeps z %s", z.Name(), z.Dtype(), p.ZDtype(), p.node.Name(), p.zDescription())
	}
	return nil
}

// checkDifferentiable returns an error naming op when z is kept in 16
// bits: a gradient through z would need z's gradient in that format.
func (p *Projection) checkDifferentiable(op string) error {
	if p.z == ZFull {
		return nil
	}
	return errors.Errorf("op: %s gradient: projection %q keeps z as %v bits, which has no gradient; differentiating through z needs the full format (Linear, WeightGrad and ScaleShift never do)", op, p.node.Name(), p.z)
}

// zDescription says how z is kept, for messages.
func (p *Projection) zDescription() string {
	if p.z == ZFull {
		return "in v's dtype " + p.Dtype().String()
	}
	return "as " + p.z.String() + " bits"
}

// checkZValue checks that z's value has the dtype the projection keeps z in.
func (p *Projection) checkZValue(z *tensor.Dense) error {
	if z.Dtype() != p.ZDtype() {
		return errors.Errorf("z has dtype %v, expected %v: projection %q keeps z %s", z.Dtype(), p.ZDtype(), p.node.Name(), p.zDescription())
	}
	return nil
}

// checkZAndGrad checks the values a weight gradient reads: z as the
// projection keeps it and the output gradient g, of v's dtype.
func (p *Projection) checkZAndGrad(z, g *tensor.Dense) error {
	if err := p.checkZValue(z); err != nil {
		return err
	}
	if g.Dtype() != p.Dtype() {
		return errors.Errorf("output gradient has dtype %v and projection %q %v, expected one dtype", g.Dtype(), p.node.Name(), p.Dtype())
	}
	return nil
}

// zChunkRows is how many rows of a 16-bit z are widened or compressed at
// a time: the buffer stays small (768·K values) and, a multiple of the
// GEMM's depth blocks (256 and 192), costs the weight gradient's product
// no extra packing.
const zChunkRows = 768

// zValues is z's data as the ops read and write it: a (T, K) matrix of
// dtype T in the full format, of 16-bit patterns otherwise.
type zValues[T opkit.Float] struct {
	full []T
	half []uint16
	f    ZFormat
}

// zValuesOf returns z's data in format f; z has been checked by zDense or
// made by the op itself.
func zValuesOf[T opkit.Float](z *tensor.Dense, f ZFormat) zValues[T] {
	if f == ZFull {
		return zValues[T]{full: z.Data().([]T), f: f}
	}
	return zValues[T]{half: z.Data().([]uint16), f: f}
}

// rowCount is T, the number of rows of k values.
func (z zValues[T]) rowCount(k int) int {
	if z.f == ZFull {
		return len(z.full) / k
	}
	return len(z.half) / k
}

// chunk is how many of rows rows to handle at a time: all of them in the
// full format (at least 1, so that a loop over chunks runs once), at most
// zChunkRows otherwise.
func (z zValues[T]) chunk(rows int) int {
	if z.f == ZFull {
		return max(rows, 1)
	}
	return max(min(rows, zChunkRows), 1)
}

// buffer returns room for rows rows of k values to widen into or compress
// into, nil in the full format, which needs none. Hand it back with
// release.
func (z zValues[T]) buffer(rows, k int) []T {
	if z.f == ZFull {
		return nil
	}
	pool := zBufferPool[T]()
	if b, ok := pool.Get().(*[]T); ok && cap(*b) >= rows*k {
		return (*b)[:rows*k]
	}
	return make([]T, rows*k)
}

// release hands a buffer back for reuse.
func (z zValues[T]) release(buf []T) {
	if buf != nil {
		zBufferPool[T]().Put(&buf)
	}
}

// zBuffers recycles the buffers of 16-bit z's, one pool per element type,
// so that a step allocates none once warm.
var zBuffers [2]sync.Pool

func zBufferPool[T opkit.Float]() *sync.Pool {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return &zBuffers[0]
	}
	return &zBuffers[1]
}

// rows returns rows [lo, hi) of z as values of type T: z's own data in the
// full format, else widened into buf.
func (z zValues[T]) rows(lo, hi, k int, buf []T) []T {
	if z.f == ZFull {
		return z.full[lo*k : hi*k]
	}
	out := buf[:(hi-lo)*k]
	widen(out, z.half[lo*k:hi*k], z.f)
	return out
}

// target returns where rows [lo, hi) of z are computed: in place in the
// full format, else in buf, which store then narrows into z.
func (z zValues[T]) target(lo, hi, k int, buf []T) []T {
	if z.f == ZFull {
		return z.full[lo*k : hi*k]
	}
	return buf[:(hi-lo)*k]
}

// store writes rows computed into target's buf, starting at row lo.
func (z zValues[T]) store(lo, k int, rows []T) {
	if z.f != ZFull {
		narrow(z.half[lo*k:lo*k+len(rows)], rows, z.f)
	}
}
