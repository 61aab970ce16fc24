package op

import (
	"math"

	"github.com/velora-go/velora/op/internal/opkit"
)

// The 16-bit formats a Projection can keep z in (ZBFloat16, ZFloat16) are
// stored as their bit patterns in uint16 values; gorgonia has no 16-bit
// float dtype. Narrowing rounds to nearest, ties to even, as IEEE 754
// conversions do; widening is exact.
//
//	bfloat16: sign, 8 exponent bits (bias 127), 7 fraction bits: float32's
//	          range (max 3.39e38) at 2-3 significant digits
//	float16:  sign, 5 exponent bits (bias 15), 10 fraction bits: IEEE
//	          binary16, max 65504, normal down to 2⁻¹⁴ ≈ 6.1e-5

// narrow writes the patterns of src in format f (ZBFloat16 or ZFloat16)
// into dst, which is at least as long.
func narrow[T opkit.Float](dst []uint16, src []T, f ZFormat) {
	switch s := any(src).(type) {
	case []float32:
		if f == ZBFloat16 {
			for i, x := range s {
				dst[i] = bf16FromFloat32(x)
			}
			return
		}
		for i, x := range s {
			dst[i] = fp16FromFloat32(x)
		}
	case []float64:
		// Rounding to float32 first would round twice, and the second rounding
		// could break a tie the first one made; rounding to odd keeps the
		// information (Boldo and Melquiond, "Emulation of FMA and correctly
		// rounded sums: proved algorithms using rounding to odd", IEEE TC 2008).
		if f == ZBFloat16 {
			for i, x := range s {
				dst[i] = bf16FromFloat32(float32RoundedToOdd(x))
			}
			return
		}
		for i, x := range s {
			dst[i] = fp16FromFloat32(float32RoundedToOdd(x))
		}
	}
}

// widen writes the values of the patterns src in format f into dst, which
// is at least as long. Every bfloat16 and float16 value is a float32, so
// this is exact.
func widen[T opkit.Float](dst []T, src []uint16, f ZFormat) {
	switch d := any(dst).(type) {
	case []float32:
		if f == ZBFloat16 {
			for i, h := range src {
				d[i] = bf16ToFloat32(h)
			}
			return
		}
		for i, h := range src {
			d[i] = fp16ToFloat32(h)
		}
	case []float64:
		if f == ZBFloat16 {
			for i, h := range src {
				d[i] = float64(bf16ToFloat32(h))
			}
			return
		}
		for i, h := range src {
			d[i] = float64(fp16ToFloat32(h))
		}
	}
}

// bf16FromFloat32 rounds x to bfloat16: the upper half of its bits, with
// the lower half rounded to nearest, ties to even. A NaN stays a NaN (its
// quiet bit set, so that a payload only in the lower half survives); a
// value past bfloat16's largest finite one rounds to ±Inf.
func bf16FromFloat32(x float32) uint16 {
	b := math.Float32bits(x)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x0040
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// bf16ToFloat32 is the float32 whose upper half is h.
func bf16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// fp16FromFloat32 rounds x to IEEE binary16, to nearest, ties to even
// (F. Giesen's float_to_half_fast3_rtne): values of 65520 and above in
// magnitude become ±Inf, values below 2⁻¹⁴ become subnormals or ±0, a NaN
// a quiet NaN of the same sign.
func fp16FromFloat32(x float32) uint16 {
	const (
		f32Inf      = 255 << 23
		f16Overflow = (127 + 16) << 23                   // 2¹⁶: rounds to Inf
		f16MinNorm  = (127 - 14) << 23                   // 2⁻¹⁴
		denormMagic = ((127 - 15) + (23 - 10) + 1) << 23 // 0.5: aligns a subnormal's bits
	)
	b := math.Float32bits(x)
	sign := uint16(b>>16) & 0x8000
	b &^= 0x80000000
	switch {
	case b >= f16Overflow:
		if b > f32Inf {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case b < f16MinNorm:
		// Adding 0.5 makes float32's own rounding shift the fraction into
		// place: the low bits of the sum are the subnormal's pattern.
		sum := math.Float32frombits(b) + math.Float32frombits(denormMagic)
		return sign | uint16(math.Float32bits(sum)-denormMagic)
	}
	b += 0xfff + (b>>13)&1 // round the 13 bits that go, ties to even
	b -= (127 - 15) << 23  // rebias the exponent
	return sign | uint16(b>>13)
}

// fp16ToFloat32 is the value of the binary16 pattern h.
func fp16ToFloat32(h uint16) float32 {
	const magic = 113 << 23 // 2⁻¹⁴, the smallest normal
	b := uint32(h&0x7fff) << 13
	switch exp := b & (0x1f << 23); exp {
	case 0x1f << 23: // Inf or NaN
		b += (255 - 31) << 23
	case 0: // zero or subnormal: renormalise through a float32 subtraction
		b = math.Float32bits(math.Float32frombits(b+magic) - math.Float32frombits(magic))
	default:
		b += (127 - 15) << 23
	}
	return math.Float32frombits(b | uint32(h&0x8000)<<16)
}

// float32RoundedToOdd is x rounded to float32 towards zero, with the last
// fraction bit set when that lost anything. Rounded once more to a format
// at least two bits shorter (bfloat16 and float16 are 16 and 13 bits
// shorter), it gives x rounded to that format directly.
func float32RoundedToOdd(x float64) float32 {
	f := float32(x)
	d := float64(f)
	if d == x || x != x {
		return f
	}
	b := math.Float32bits(f)
	if math.Abs(d) > math.Abs(x) {
		b-- // one step towards zero: f rounded away from it
	}
	return math.Float32frombits(b | 1)
}
