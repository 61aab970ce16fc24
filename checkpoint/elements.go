package checkpoint

import (
	"encoding/binary"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// elemKind is one floating-point element type as the files store it:
// little-endian, size bytes per element.
type elemKind struct {
	safetensors string // dtype name in a safetensors header
	npy         string // descr in a .npy header; empty where NumPy has none
	size        int
	decode      func(raw []byte) interface{} // a backing slice of len(raw)/size elements
}

var (
	kindF16  = &elemKind{safetensors: "F16", npy: "<f2", size: 2, decode: decodeF16}
	kindBF16 = &elemKind{safetensors: "BF16", size: 2, decode: decodeBF16}
	kindF32  = &elemKind{safetensors: "F32", npy: "<f4", size: 4, decode: decodeF32}
	kindF64  = &elemKind{safetensors: "F64", npy: "<f8", size: 8, decode: decodeF64}

	readableKinds = []*elemKind{kindF16, kindBF16, kindF32, kindF64}
)

// kindBySafetensors returns the kind named dtype in a safetensors header, or nil.
func kindBySafetensors(dtype string) *elemKind {
	for _, k := range readableKinds {
		if k.safetensors == dtype {
			return k
		}
	}
	return nil
}

// kindByNPY returns the kind described by descr in a .npy header, or nil.
func kindByNPY(descr string) *elemKind {
	for _, k := range readableKinds {
		if k.npy != "" && k.npy == descr {
			return k
		}
	}
	return nil
}

// writableKind returns the kind a tensor of dtype dt is written as.
func writableKind(dt tensor.Dtype) (*elemKind, error) {
	switch dt {
	case tensor.Float32:
		return kindF32, nil
	case tensor.Float64:
		return kindF64, nil
	}
	return nil, errors.Errorf("dtype %v not supported (float32, float64)", dt)
}

// byteSize returns the number of bytes of a tensor of the given shape whose
// elements take size bytes, or an error for a negative dimension or a size
// beyond int64.
func byteSize(shape []int, size int) (int64, error) {
	for _, d := range shape {
		if d < 0 {
			return 0, errors.Errorf("shape %v has a negative dimension, expected sizes ≥ 0", shape)
		}
		if d == 0 {
			return 0, nil
		}
	}
	n := int64(size)
	for _, d := range shape {
		if n > math.MaxInt64/int64(d) {
			return 0, errors.Errorf("shape %v is too large", shape)
		}
		n *= int64(d)
	}
	return n, nil
}

// newDense decodes data, laid out in row-major order, into a tensor of shape.
// The caller has checked that data holds exactly the shape's elements.
func newDense(k *elemKind, shape []int, data []byte) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(k.decode(data)))
}

// encode returns the kind t is written as and its elements as little-endian
// bytes in row-major order, whatever t's view, transposition or data order.
func encode(t *tensor.Dense) (*elemKind, []byte, error) {
	if t == nil {
		return nil, nil, errors.New("tensor is nil")
	}
	k, err := writableKind(t.Dtype())
	if err != nil {
		return nil, nil, err
	}
	if t.IsMaterializable() {
		t = t.Materialize().(*tensor.Dense)
	}
	var raw []byte
	if k == kindF32 {
		raw = encodeF32(t.Float32s())
	} else {
		raw = encodeF64(t.Float64s())
	}
	if t.DataOrder().IsColMajor() {
		raw = fortranToC(raw, t.Shape(), k.size)
	}
	return k, raw, nil
}

// fortranToC reorders the elements of data, size bytes each, from
// column-major (Fortran) to row-major (C) order for the given shape.
func fortranToC(data []byte, shape []int, size int) []byte {
	out := make([]byte, len(data))
	coords := make([]int, len(shape)) // of the row-major element c
	for c := 0; c < len(data)/size; c++ {
		f := 0 // its column-major index: the first axis varies fastest
		for axis := len(shape) - 1; axis >= 0; axis-- {
			f = f*shape[axis] + coords[axis]
		}
		copy(out[c*size:(c+1)*size], data[f*size:(f+1)*size])
		for axis := len(shape) - 1; axis >= 0; axis-- {
			coords[axis]++
			if coords[axis] < shape[axis] {
				break
			}
			coords[axis] = 0
		}
	}
	return out
}

func encodeF32(data []float32) []byte {
	out := make([]byte, 0, 4*len(data))
	for _, v := range data {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

func encodeF64(data []float64) []byte {
	out := make([]byte, 0, 8*len(data))
	for _, v := range data {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
	}
	return out
}

func decodeF32(raw []byte) interface{} {
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

func decodeF64(raw []byte) interface{} {
	out := make([]float64, len(raw)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out
}

// decodeF16 widens IEEE 754 half-precision numbers to float32.
func decodeF16(raw []byte) interface{} {
	out := make([]float32, len(raw)/2)
	for i := range out {
		out[i] = halfToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return out
}

// decodeBF16 widens bfloat16 numbers, the top half of a float32, to float32.
func decodeBF16(raw []byte) interface{} {
	out := make([]float32, len(raw)/2)
	for i := range out {
		out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
	}
	return out
}

// halfToFloat32 converts the bits of an IEEE 754 half (1 sign, 5 exponent
// with bias 15, 10 fraction bits) to the float32 of the same value.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // infinity or NaN, payload kept
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case 0: // zero or subnormal: frac · 2⁻²⁴, exact in float32
		return math.Float32frombits(sign | math.Float32bits(float32(frac)/(1<<24)))
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
