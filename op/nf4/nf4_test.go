package nf4

import (
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

// Bounds of the tests below, derived from the code books.
const (
	// nf4HalfMaxGap is half the largest gap between adjacent NF4 values,
	// between -1 and -0.6961928009986877 (codes 0 and 1): NF4 rounds to the
	// nearest of its values (QLoRA, arXiv 2305.14314, section 3), so
	// |x/absmax − code| is at most this.
	nf4HalfMaxGap = (1 - 0.6961928009986877) / 2
	// dynamicHalfMaxGap is half the largest gap of the 8-bit dynamic code
	// book: its densest-to-widest decade, 10^0, holds the 64 midpoints of
	// linspace(0.1, 1, 65), 0.9/64 apart; the gap from -0.99296875 to the
	// clamp at -1 and from 0.99296875 to 1 is half that.
	dynamicHalfMaxGap = 0.9 / 64 / 2
	// f32Slack covers float32 rounding of the input, the reciprocal scale
	// and the products: a few units in the last place, relative.
	f32Slack = 1e-6
)

// unpackNF4 returns the 4-bit code of every weight in storage order.
func unpackNF4(q *Weight) []uint8 {
	codes := make([]uint8, q.rows*q.cols)
	for i := range codes {
		if i%2 == 0 {
			codes[i] = q.codes[i/2] >> 4
		} else {
			codes[i] = q.codes[i/2] & 0xF
		}
	}
	return codes
}

// storageBlocks returns the absmax of every block of 64 of w: (D, Dout) in
// storage order (wᵀ row-major), computed in float64.
func storageBlocks(w []float64, d, dout int) []float64 {
	n := d * dout
	absmax := make([]float64, (n+63)/64)
	for p := range n {
		v := math.Abs(float64(float32(w[(p%d)*dout+p/d])))
		absmax[p/64] = math.Max(absmax[p/64], v)
	}
	return absmax
}

func mustQuantize(t testing.TB, w *tensor.Dense) *Weight {
	t.Helper()
	q, err := Quantize(w)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestNF4CodeValuesMatchTheirConstruction rebuilds the 16 values from
// bitsandbytes' create_normal_map(offset=0.9677083, use_extra_value=True):
// 8 positive normal quantiles ppf(linspace(offset, 0.5, 9)[:-1]), 7
// negative ones -ppf(linspace(offset, 0.5, 8)[:-1]) and 0, sorted and
// divided by the largest. The probabilities come from torch's float32
// linspace (float32 rounding of them moves code 14 by 1e-7).
func TestNF4CodeValuesMatchTheirConstruction(t *testing.T) {
	const offset = 0.9677083
	want := []float64{0}
	for _, p := range linspace32(offset, 0.5, 9)[:8] {
		want = append(want, distuv.UnitNormal.Quantile(float64(p)))
	}
	for _, p := range linspace32(offset, 0.5, 8)[:7] {
		want = append(want, -distuv.UnitNormal.Quantile(float64(p)))
	}
	slices.Sort(want)
	top := want[len(want)-1]
	got := make([]float64, 16)
	for i := range want {
		want[i] /= top
		got[i] = float64(nf4Codes[i])
	}
	// 6e-8: half a float32 unit in the last place near 1.
	testutil.CloseTo(t, "NF4 code values", got, want, 6e-8)
}

// TestNF4CodeValuesRoundTrip quantises blocks that hold exactly the code
// values times one absmax and gets every code and value back. With one
// absmax for all blocks the double quantisation is exact too: the offset
// is that absmax and every centred value 0.
func TestNF4CodeValuesRoundTrip(t *testing.T) {
	cases := []struct {
		d, dout int
		absmax  float32
		dt      tensor.Dtype
	}{
		{32, 8, 1, tensor.Float32},     // 4 full blocks
		{32, 8, 2.5, tensor.Float64},   // the same in float64
		{37, 5, 0.013, tensor.Float32}, // 185 weights: a last block of 57
		{3, 1, 7, tensor.Float64},      // one partial block, an odd count
	}
	for _, c := range cases {
		n := c.d * c.dout
		// Storage position p holds code (5p+15) mod 16: each block starts
		// with code 15 (the absmax) and cycles through all 16 codes.
		code := func(p int) uint8 { return uint8((5*p + 15) % 16) }
		want := make([]float64, n)
		for p := range n {
			want[(p%c.d)*c.dout+p/c.d] = float64(nf4Codes[code(p)] * c.absmax)
		}
		wv := tensor.New(tensor.WithShape(c.d, c.dout), tensor.WithBacking(want))
		if c.dt == tensor.Float32 {
			data := make([]float32, n)
			for i, v := range want {
				data[i] = float32(v)
			}
			wv = tensor.New(tensor.WithShape(c.d, c.dout), tensor.WithBacking(data))
		}
		q := mustQuantize(t, wv)
		for p, got := range unpackNF4(q) {
			if got != code(p) {
				t.Fatalf("%v: code %d = %#x, want %#x", c, p, got, code(p))
			}
		}
		back := q.Dequantize()
		if back.Dtype() != c.dt || !back.Shape().Eq(tensor.Shape{c.d, c.dout}) {
			t.Fatalf("%v: dequantised %v %v", c, back.Dtype(), back.Shape())
		}
		testutil.CloseTo(t, "dequantised", testutil.Float64s(back), want, 0)
	}
}

// TestNF4MidpointsGoToTheLowerCode puts every midpoint between adjacent
// codes, and the next float32 above it, in a block whose absmax is 1.
func TestNF4MidpointsGoToTheLowerCode(t *testing.T) {
	// bitsandbytes' CUDA dQuantizeNF4 splits codes 7 and 8 at this literal.
	if got := float32((float64(nf4Codes[7]) + float64(nf4Codes[8])) / 2); got != float32(0.03979014977812767) {
		t.Fatalf("midpoint of codes 7 and 8 = %v", got)
	}
	data := []float32{1}
	var want []uint8
	for k := range 15 {
		mid := float32((float64(nf4Codes[k]) + float64(nf4Codes[k+1])) / 2)
		data = append(data, mid, math.Nextafter32(mid, 2))
		want = append(want, uint8(k), uint8(k+1))
	}
	q := mustQuantize(t, tensor.New(tensor.WithShape(len(data), 1), tensor.WithBacking(data)))
	got := unpackNF4(q)[1:]
	if !slices.Equal(got, want) {
		t.Fatalf("codes %v, want %v", got, want)
	}
}

// TestNF4PackingHighNibbleFirst checks hand-made bytes: the first element
// in the high nibble, storage in PyTorch's (out, in) order, an odd count
// padded with a zero nibble.
func TestNF4PackingHighNibbleFirst(t *testing.T) {
	c := nf4Codes
	cases := []struct {
		name string
		w    [][]float32 // (D, Dout)
		want []byte
	}{
		// Storage order is w[0,0], w[1,0], w[0,1], w[1,1]: codes 0xA, 0x3,
		// 0xF, 0x0.
		{"2x2", [][]float32{{c[10], 1}, {c[3], -1}}, []byte{0xA3, 0xF0}},
		// Three weights: codes 0xC, 0xF, 0x5 and a zero nibble.
		{"3x1", [][]float32{{c[12]}, {1}, {c[5]}}, []byte{0xCF, 0x50}},
	}
	for _, tc := range cases {
		d, dout := len(tc.w), len(tc.w[0])
		var data []float32
		for _, row := range tc.w {
			data = append(data, row...)
		}
		q := mustQuantize(t, tensor.New(tensor.WithShape(d, dout), tensor.WithBacking(slices.Clone(data))))
		if !slices.Equal(q.codes, tc.want) {
			t.Errorf("%s: bytes % x, want % x", tc.name, q.codes, tc.want)
		}
		want := make([]float64, len(data))
		for i, v := range data {
			want[i] = float64(v)
		}
		testutil.CloseTo(t, tc.name+" unpacked", testutil.Float64s(q.Dequantize()), want, 0)
	}
}

// TestNF4GaussianErrorWithinBound quantises standard normal weights (300 ×
// 70: 329 blocks, the last of 8, and two absmax blocks) and checks every
// element against two bounds. With A the block's absmax, Â its value after
// double quantisation and c the chosen code, |x − c·Â| ≤ |x − c·A| + |A − Â|:
//
//   - tight: |x − c·A| ≤ A·(gap around x/A)/2, the rounding to the nearest
//     code within the interval of adjacent codes that holds x/A;
//   - loose, the NF4 bound: |x − c·A| ≤ A·nf4HalfMaxGap.
//
// |A − Â| is taken from the stored absmax here; the double-quantisation
// test bounds it.
func TestNF4GaussianErrorWithinBound(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		const d, dout = 300, 70
		rng := rand.New(rand.NewSource(101))
		wv := testutil.RandomDense(rng, dt, d, dout)
		orig := testutil.Float64s(wv)
		q := mustQuantize(t, wv)
		testutil.CloseTo(t, "input after quantising", testutil.Float64s(wv), orig, 0)

		got := testutil.Float64s(q.Dequantize())
		trueAbsmax := storageBlocks(orig, d, dout)
		stored := q.absmax()
		var worst, worstRatio float64
		for p := range d * dout {
			i := (p%d)*dout + p/d
			x := float64(float32(orig[i]))
			a, ahat := trueAbsmax[p/64], float64(stored[p/64])
			s := x / a
			k := 0
			for k < 14 && s > float64(nf4Codes[k+1]) {
				k++
			}
			dq := math.Abs(a - ahat)
			tight := a*float64(nf4Codes[k+1]-nf4Codes[k])/2 + dq + f32Slack*a
			loose := a*nf4HalfMaxGap + dq + f32Slack*a
			e := math.Abs(got[i] - x)
			if e > tight || e > loose {
				t.Fatalf("%v: w[%d] = %g dequantised to %g: error %g exceeds %g (tight) or %g (NF4 bound); absmax %g, stored %g",
					dt, i, x, got[i], e, tight, loose, a, ahat)
			}
			worst = math.Max(worst, e/a)
			worstRatio = math.Max(worstRatio, e/loose)
		}
		t.Logf("%v: largest error %.4f·absmax; largest error / NF4 bound %.3f (bound %.4f·absmax + double-quant error)",
			dt, worst, worstRatio, nf4HalfMaxGap)
	}
}

// TestNF4IgnoresTheInputDtype quantises the same values given as float64
// and as float32: bitsandbytes quantises float32, so both store the same.
func TestNF4IgnoresTheInputDtype(t *testing.T) {
	w64 := testutil.RandomDense(rand.New(rand.NewSource(103)), tensor.Float64, 40, 17)
	data := make([]float32, 40*17)
	for i, v := range w64.Data().([]float64) {
		data[i] = float32(v)
	}
	q64 := mustQuantize(t, w64)
	q32 := mustQuantize(t, tensor.New(tensor.WithShape(40, 17), tensor.WithBacking(data)))
	if !slices.Equal(q64.codes, q32.codes) || !slices.Equal(q64.absmaxCodes, q32.absmaxCodes) ||
		!slices.Equal(q64.absmaxScales, q32.absmaxScales) || q64.absmaxOffset != q32.absmaxOffset {
		t.Fatal("float64 and float32 inputs quantise differently")
	}
	if q64.Dtype() != tensor.Float64 || q32.Dtype() != tensor.Float32 {
		t.Fatalf("dtypes %v and %v", q64.Dtype(), q32.Dtype())
	}
}

// TestDynamicMapIsBitsandbytesCodeBook rebuilds the signed 8-bit dynamic
// code book in float64 from its definition: for i = 0..6 the 2^i midpoints
// of linspace(0.1, 1, 2^i+1) times 10^(i-6), both signs, then 0 and 1.
func TestDynamicMapIsBitsandbytesCodeBook(t *testing.T) {
	want := []float64{0, 1}
	for i := range 7 {
		n := 1 << i
		for j := range n {
			v := math.Pow10(i-6) * (0.1 + 0.9*(float64(j)+0.5)/float64(n))
			want = append(want, v, -v)
		}
	}
	slices.Sort(want)
	got := make([]float64, len(dynamicCodes))
	for i, v := range dynamicCodes {
		got[i] = float64(v)
		if i > 0 && dynamicCodes[i-1] >= v {
			t.Fatalf("code book not increasing at %d: %g, %g", i, dynamicCodes[i-1], v)
		}
	}
	if len(want) != 256 {
		t.Fatalf("%d reference codes", len(want))
	}
	// 2.5e-7: float32 rounding of the linspace, the midpoint and the
	// scale, about two units in the last place.
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > 2.5e-7*math.Abs(want[i]) {
			t.Fatalf("code %d = %.10g, want %.10g", i, got[i], want[i])
		}
	}
	if dynamicCodes[0] != float32(-0.99296875) || dynamicCodes[127] != 0 || dynamicCodes[255] != 1 {
		t.Fatalf("codes 0, 127, 255 = %g, %g, %g", dynamicCodes[0], dynamicCodes[127], dynamicCodes[255])
	}
}

// TestNF4DoubleQuantisationRecoversAbsmax checks the offset (the mean of the
// absmax values), the float32 scale of every block of 256 absmax values (the
// largest centred magnitude in it) and every recovered absmax against the
// 8-bit tolerance: half the code book's largest gap times that scale.
func TestNF4DoubleQuantisationRecoversAbsmax(t *testing.T) {
	// 128 × 300: 600 blocks of 64, so 256 + 256 + 88 absmax values. Each
	// column is scaled by 10^[-2, 1) so that absmax values spread widely.
	const d, dout = 128, 300
	rng := rand.New(rand.NewSource(107))
	w := testutil.RandomDense(rng, tensor.Float64, d, dout).Data().([]float64)
	for c := range dout {
		s := math.Pow(10, 3*rng.Float64()-2)
		for r := range d {
			w[r*dout+c] *= s
		}
	}
	q := mustQuantize(t, tensor.New(tensor.WithShape(d, dout), tensor.WithBacking(w)))
	absmax := storageBlocks(w, d, dout)
	mean := 0.0
	for _, a := range absmax {
		mean += a
	}
	mean /= float64(len(absmax))
	if diff := math.Abs(float64(q.absmaxOffset) - mean); diff > f32Slack*mean {
		t.Fatalf("offset %g, want the mean absmax %g", q.absmaxOffset, mean)
	}
	if len(q.absmaxScales) != 3 {
		t.Fatalf("%d second-level scales, want 3", len(q.absmaxScales))
	}
	for g, scale := range q.absmaxScales {
		want := 0.0
		for _, a := range absmax[g*256 : min(len(absmax), (g+1)*256)] {
			want = math.Max(want, math.Abs(a-float64(q.absmaxOffset)))
		}
		if diff := math.Abs(float64(scale) - want); diff > f32Slack*want {
			t.Fatalf("scale %d = %g, want %g", g, scale, want)
		}
	}
	var worst float64
	for b, got := range q.absmax() {
		scale := float64(q.absmaxScales[b/256])
		tol := dynamicHalfMaxGap*scale + f32Slack*absmax[b]
		if e := math.Abs(float64(got) - absmax[b]); e > tol {
			t.Fatalf("absmax %d recovered as %g, want %g within %g", b, got, absmax[b], tol)
		} else {
			worst = math.Max(worst, e/scale)
		}
	}
	t.Logf("largest absmax error %.5f·scale (tolerance %.5f·scale)", worst, dynamicHalfMaxGap)
}

// TestNF4BitsPerParameter checks Bytes and BitsPerParameter against the
// storage formula: per weight 4 bits of code; one 8-bit absmax code per 64
// weights, 8/64 = 0.125 bit; one float32 scale per 64·256 = 16384 weights,
// 32/16384 = 0.001953125 bit; one float32 offset, 32/n bits. For
// n = 1024·1024 = 2^20 that is 4 + 0.125 + 0.001953125 + 0.000030517578125
// = 4.126983642578125, the QLoRA paper's 4.127.
func TestNF4BitsPerParameter(t *testing.T) {
	cases := []struct {
		d, dout, bytes int
	}{
		// 2^20/2 code bytes + 16384 absmax codes + 4·64 scale bytes + 4.
		{1024, 1024, 524288 + 16384 + 4*64 + 4},
		// 700 weights: 350 code bytes, 11 absmax codes (the last block
		// holds 28), one scale, the offset.
		{100, 7, 350 + 11 + 4 + 4},
		// 185 weights: 93 code bytes (the last nibble padding), 3 absmax
		// codes, one scale, the offset.
		{37, 5, 93 + 3 + 4 + 4},
	}
	for _, c := range cases {
		q := mustQuantize(t, testutil.RandomDense(rand.New(rand.NewSource(109)), tensor.Float32, c.d, c.dout))
		if q.Bytes() != c.bytes {
			t.Errorf("(%d, %d): %d bytes, want %d", c.d, c.dout, q.Bytes(), c.bytes)
		}
		if want := 8 * float64(c.bytes) / float64(c.d*c.dout); q.BitsPerParameter() != want {
			t.Errorf("(%d, %d): %g bits per parameter, want %g", c.d, c.dout, q.BitsPerParameter(), want)
		}
	}
	q := mustQuantize(t, testutil.RandomDense(rand.New(rand.NewSource(113)), tensor.Float32, 1024, 1024))
	n := 1024.0 * 1024
	want := 4 + 8.0/64 + 32.0/(64*256) + 32/n
	if got := q.BitsPerParameter(); math.Abs(got-want) > 1e-12 || math.Abs(got-4.127) > 5e-4 {
		t.Fatalf("%g bits per parameter, want %g ≈ 4.127", got, want)
	}
	t.Logf("(1024, 1024): %d bytes, %.6f bits per parameter", q.Bytes(), q.BitsPerParameter())
}

func TestQuantizeNF4RejectsBadInputs(t *testing.T) {
	nan := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{0, 1, 2, 3, 4, math.NaN()}))
	huge := tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{1, 1e39}))
	cases := []struct {
		name string
		w    *tensor.Dense
		want string
	}{
		{"nil", nil, "weight is nil"},
		{"vector", tensor.New(tensor.WithShape(8), tensor.WithBacking(make([]float64, 8))), "shape (8)"},
		{"rank 3", tensor.New(tensor.WithShape(2, 2, 2), tensor.WithBacking(make([]float32, 8))), "shape (2, 2, 2)"},
		{"integers", tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]int{1, 2, 3, 4})), "dtype int"},
		{"NaN", nan, "element (1, 2) is NaN"},
		{"beyond float32", huge, "element (0, 1) is 1e+39"},
	}
	for _, c := range cases {
		_, err := Quantize(c.w)
		if err == nil || !strings.Contains(err.Error(), c.want) || !testutil.Prefixed(err.Error(), "nf4") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestNF4BlockWorkedByHand quantises w = [[0.5, -1], [0.1, 0.25]] and checks every stored
// byte against the specification worked by hand, with the code values published in QLoRA
// (arXiv 2305.14314, appendix E) and bitsandbytes' get_4bit_type("nf4"):
//
//   - storage order is wᵀ row-major: 0.5, 0.1, -1, 0.25, one block of 4, absmax 1;
//   - 0.5 lies below the midpoint 0.50166 of codes 12 (0.44071) and 13 (0.56262): 12;
//     0.1 below the midpoint 0.12026 of 8 (0.07958) and 9 (0.16093): 8; -1 is code 0;
//     0.25 below the midpoint 0.29201 of 10 (0.24611) and 11 (0.33792): 10;
//   - packed high nibble first: 12<<4|8 = 0xC8, 0<<4|10 = 0x0A;
//   - the one absmax, 1, is the offset of double quantisation: its centred value 0 is
//     stored at scale 0, and the absmax comes back as exactly 1.
func TestNF4BlockWorkedByHand(t *testing.T) {
	w := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{0.5, -1, 0.1, 0.25}))
	q := mustQuantize(t, w)
	if len(q.codes) != 2 || q.codes[0] != 0xC8 || q.codes[1] != 0x0A {
		t.Fatalf("packed codes % X, want C8 0A", q.codes)
	}
	if q.absmaxOffset != 1 || len(q.absmaxScales) != 1 || q.absmaxScales[0] != 0 {
		t.Fatalf("absmax offset %v, scales %v, want 1 and [0]", q.absmaxOffset, q.absmaxScales)
	}
	published := []float32{0.44070982933044434, -1, 0.07958029955625534, 0.24611230194568634} // w's layout
	if got := q.Dequantize().Data().([]float32); !slices.Equal(got, published) {
		t.Fatalf("dequantised %v, want %v", got, published)
	}
}
