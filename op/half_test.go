package op

import (
	"math"
	"math/big"
	"math/rand"
	"testing"

	"github.com/velora-go/velora/op/internal/opkit"
)

// halfCase is a value and the pattern IEEE rounding to nearest, ties to
// even, gives it, worked out by hand from the formats' definitions.
type halfCase struct {
	x    float64
	want uint16
}

var bf16Cases = []halfCase{
	{1, 0x3f80},
	{-2.5, 0xc020},
	{0, 0x0000},
	{math.Copysign(0, -1), 0x8000},
	{65504, 0x4780},                   // 0x477fe000: the dropped half 0xe000 rounds up, to 65536
	{math.Ldexp(1, -126), 0x0080},     // smallest normal
	{-math.Ldexp(1, -133), 0x8001},    // smallest subnormal
	{math.Ldexp(1, -134), 0x0000},     // half the smallest subnormal: a tie, to even (zero)
	{3 * math.Ldexp(1, -134), 0x0002}, // 1.5 subnormal steps: a tie, to even (2)
	{math.Inf(1), 0x7f80},
	{math.Inf(-1), 0xff80},
	{1 + math.Ldexp(1, -8), 0x3f80},                      // a tie between 0x3f80 and 0x3f81: to even
	{1 + 3*math.Ldexp(1, -8), 0x3f82},                    // a tie between 0x3f81 and 0x3f82: to even
	{1 + math.Ldexp(1, -8) + math.Ldexp(1, -23), 0x3f81}, // just above the tie
	{math.MaxFloat32, 0x7f80},                            // beyond bf16's largest, 0x7f7f, by more than half a step
	{math.Ldexp(255, 120), 0x7f7f},                       // bf16's largest, (2 − 2⁻⁷)·2¹²⁷
	{math.Ldexp(511, 119), 0x7f80},                       // half a step above the largest: a tie, to even (Inf)
}

var fp16Cases = []halfCase{
	{1, 0x3c00},
	{-2.5, 0xc100},
	{0, 0x0000},
	{math.Copysign(0, -1), 0x8000},
	{65504, 0x7bff},                  // the largest
	{65519, 0x7bff},                  // below the tie with 65536
	{65520, 0x7c00},                  // the tie between 65504 and 65536: to even (Inf)
	{-1e6, 0xfc00},                   //
	{math.Ldexp(1, -14), 0x0400},     // smallest normal
	{math.Ldexp(1, -24), 0x0001},     // smallest subnormal
	{-math.Ldexp(1, -25), 0x8000},    // half the smallest subnormal: a tie, to even (−0)
	{3 * math.Ldexp(1, -25), 0x0002}, // 1.5 subnormal steps: a tie, to even (2)
	{math.Ldexp(1023, -24), 0x03ff},  // the largest subnormal
	{math.Ldexp(2047, -25), 0x0400},  // half a step below the smallest normal: a tie, to even
	{math.Inf(1), 0x7c00},
	{math.Inf(-1), 0xfc00},
	{1 + math.Ldexp(1, -11), 0x3c00},                      // a tie between 0x3c00 and 0x3c01: to even
	{1 + 3*math.Ldexp(1, -11), 0x3c02},                    // a tie between 0x3c01 and 0x3c02: to even
	{1 + math.Ldexp(1, -11) + math.Ldexp(1, -23), 0x3c01}, // just above the tie
	{1e-10, 0x0000},
}

// narrowOne rounds x to format f from float64 and from float32 (when x is a
// float32), and fails unless both give want.
func narrowOne(t *testing.T, f ZFormat, x float64, want uint16) {
	t.Helper()
	got := make([]uint16, 1)
	narrow(got, []float64{x}, f)
	if got[0] != want {
		t.Errorf("%v of float64 %g = %#04x, want %#04x", f, x, got[0], want)
	}
	if x32 := float32(x); float64(x32) == x || math.IsInf(x, 0) {
		narrow(got, []float32{x32}, f)
		if got[0] != want {
			t.Errorf("%v of float32 %g = %#04x, want %#04x", f, x, got[0], want)
		}
	}
}

func TestHalfFormatsRoundKnownValues(t *testing.T) {
	for _, c := range bf16Cases {
		narrowOne(t, ZBFloat16, c.x, c.want)
	}
	for _, c := range fp16Cases {
		narrowOne(t, ZFloat16, c.x, c.want)
	}
}

func TestHalfFormatsRoundOnceFromFloat64(t *testing.T) {
	// Rounding to float32 first would land on the tie that the float64
	// value lies just above, then round it to even, downwards.
	for _, c := range []struct {
		f    ZFormat
		x    float64
		want uint16
	}{
		{ZBFloat16, 1 + math.Ldexp(1, -8) + math.Ldexp(1, -40), 0x3f81},
		{ZBFloat16, -(1 + math.Ldexp(1, -8) + math.Ldexp(1, -40)), 0xbf81},
		{ZBFloat16, 1 + 3*math.Ldexp(1, -8) - math.Ldexp(1, -40), 0x3f81},
		{ZFloat16, 1 + math.Ldexp(1, -11) + math.Ldexp(1, -40), 0x3c01},
		{ZFloat16, math.Ldexp(1, -25) + math.Ldexp(1, -60), 0x0001},
		{ZBFloat16, 1e300, 0x7f80},
		{ZBFloat16, -1e-300, 0x8000},
		{ZFloat16, 1e300, 0x7c00},
	} {
		narrowOne(t, c.f, c.x, c.want)
	}
}

func TestHalfFormatsKeepNaN(t *testing.T) {
	for _, f := range []ZFormat{ZBFloat16, ZFloat16} {
		// A quiet NaN, and signalling ones whose payload lies only in the bits
		// that narrowing drops: a careless rounding turns those into Inf.
		for _, bits := range []uint32{0x7fc00000, 0x7f800001, 0xff800001, 0x7f801000} {
			x := math.Float32frombits(bits)
			for _, h := range []uint16{narrowed(f, x), narrowed(f, float64(x))} {
				back := make([]float32, 1)
				widen(back, []uint16{h}, f)
				if !math.IsNaN(float64(back[0])) {
					t.Errorf("%v of NaN %#08x = %#04x, which is %g", f, bits, h, back[0])
				}
				if h>>15 != uint16(bits>>31) {
					t.Errorf("%v of NaN %#08x = %#04x: the sign changed", f, bits, h)
				}
			}
		}
	}
}

// narrowed is x rounded to format f.
func narrowed[T opkit.Float](f ZFormat, x T) uint16 {
	h := make([]uint16, 1)
	narrow(h, []T{x}, f)
	return h[0]
}

func TestEveryHalfPatternRoundTrips(t *testing.T) {
	// Widening is exact and narrowing the result gives the pattern back, for
	// all 2¹⁶ patterns of both formats and both widths (NaNs stay NaNs).
	for _, f := range []ZFormat{ZBFloat16, ZFloat16} {
		src := make([]uint16, 1<<16)
		for i := range src {
			src[i] = uint16(i)
		}
		w32, w64 := make([]float32, len(src)), make([]float64, len(src))
		widen(w32, src, f)
		widen(w64, src, f)
		back32, back64 := make([]uint16, len(src)), make([]uint16, len(src))
		narrow(back32, w32, f)
		narrow(back64, w64, f)
		for i, h := range src {
			if float64(w32[i]) != w64[i] && !math.IsNaN(w64[i]) {
				t.Fatalf("%v %#04x widens to float32 %g but float64 %g", f, h, w32[i], w64[i])
			}
			if math.IsNaN(w64[i]) {
				continue
			}
			if back32[i] != h || back64[i] != h {
				t.Fatalf("%v %#04x = %g narrows back to %#04x (float32) and %#04x (float64)", f, h, w64[i], back32[i], back64[i])
			}
		}
	}
}

func TestHalfFormatsRoundRandomValuesToNearest(t *testing.T) {
	// math/big rounds to a given number of significant bits, to nearest, ties
	// to even: an independent reference wherever the formats are normal.
	rng := rand.New(rand.NewSource(1))
	for _, c := range []struct {
		f        ZFormat
		bits     uint
		min, max float64 // the normal range, where precision is bits
	}{
		{ZBFloat16, 8, math.Ldexp(1, -126), math.Ldexp(255, 120)},
		{ZFloat16, 11, math.Ldexp(1, -14), 65504},
	} {
		for i := 0; i < 20000; i++ {
			// Magnitudes spread over the range's exponents, both signs.
			lo, hi := math.Log2(c.min), math.Log2(c.max)
			x := math.Exp2(lo + rng.Float64()*(hi-lo))
			if i%2 == 1 {
				x = -x
			}
			// The float64 value and its float32 rounding, each from both widths
			// where it is exact in them.
			for _, in := range []float64{x, float64(float32(x))} {
				want, _ := new(big.Float).SetPrec(c.bits).SetMode(big.ToNearestEven).SetFloat64(in).Float64()
				hs := []uint16{narrowed(c.f, in)}
				if float64(float32(in)) == in {
					hs = append(hs, narrowed(c.f, float32(in)))
				}
				for _, h := range hs {
					got := make([]float64, 1)
					widen(got, []uint16{h}, c.f)
					if got[0] != want {
						t.Fatalf("%v of %.17g = %#04x = %g, want %g", c.f, in, h, got[0], want)
					}
				}
			}
		}
	}
}
