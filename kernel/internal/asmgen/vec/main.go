// Command vec writes the float32 vector kernels of package kernel in amd64
// assembly with AVX2 and FMA: vec_amd64.s and its Go declarations,
// vec_amd64_stubs.go.
//
// Every element-wise kernel works on n elements, n a multiple of 8 (one YMM
// register); the Go wrappers in package kernel do the tail. exp is
// Cephes' expf (Moshier, "Methods and Programs for Mathematical Functions",
// 1989): n = round(x·log2 e), r = x − n·ln 2 in two parts, e^r by a degree-7
// polynomial, 2^n added to the result's exponent. erf is Abramowitz and
// Stegun 7.1.26 (|error| ≤ 1.5e-7).
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// consts holds every constant, eight copies each (one YMM register).
var consts Mem

// constIndex is each constant's slot in consts.
var constIndex = map[string]int{}

// expLo and expHi bound the inputs whose exp is computed: below expLo the
// result would be subnormal and is 0, above expHi it overflows to +Inf.
// Each is one float32 step inside the exact bound, so that the rounding of
// r never pushes the polynomial's result below 1 at n = −126 or above it
// at n = 128.
var (
	expLo = math.Nextafter32(ceil32(math.Log(0x1p-126)), 0)
	expHi = math.Nextafter32(floor32(math.Log(math.MaxFloat32)), 0)
)

// ceil32 is the least float32 not below x; floor32 the greatest not above.
func ceil32(x float64) float32 {
	f := float32(x)
	if float64(f) < x {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

func floor32(x float64) float32 {
	f := float32(x)
	if float64(f) > x {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func main() {
	ConstraintExpr("amd64,!purego") // the stubs file's name ends in _stubs, not _amd64
	declareConsts([]struct {
		name string
		bits uint32
	}{
		{"log2e", math.Float32bits(math.Log2E)},
		{"ln2hi", math.Float32bits(0.693359375)},
		{"ln2lo", math.Float32bits(-2.12194440e-4)},
		{"p0", math.Float32bits(1.9875691500e-4)},
		{"p1", math.Float32bits(1.3981999507e-3)},
		{"p2", math.Float32bits(8.3334519073e-3)},
		{"p3", math.Float32bits(4.1665795894e-2)},
		{"p4", math.Float32bits(1.6666665459e-1)},
		{"p5", math.Float32bits(5.0000001201e-1)},
		{"one", math.Float32bits(1)},
		{"half", math.Float32bits(0.5)},
		{"neghalf", math.Float32bits(-0.5)},
		{"explo", math.Float32bits(expLo)},
		{"exphi", math.Float32bits(expHi)},
		{"inf", math.Float32bits(float32(math.Inf(1)))},
		{"sign", 0x80000000},
		{"abs", 0x7fffffff},
		{"erfp", math.Float32bits(0.3275911 / math.Sqrt2)},
		{"a1", math.Float32bits(0.254829592)},
		{"a2", math.Float32bits(-0.284496736)},
		{"a3", math.Float32bits(1.421413741)},
		{"a4", math.Float32bits(-1.453152027)},
		{"a5", math.Float32bits(1.061405429)},
		{"invsqrt2pi", math.Float32bits(float32(1 / math.Sqrt(2*math.Pi)))},
	})

	dot()
	axpy()
	scale()
	expShift()
	expSum()
	maxKernel()
	for _, m := range []int{8, 16, 32} {
		compress(m)
	}
	unary("sigmoidAVX2", "sigmoid(x)", sigmoid)
	unary("siluAVX2", "x·sigmoid(x)", func(x VecVirtual) VecVirtual {
		s := sigmoid(x)
		VMULPS(x, s, s)
		return s
	})
	elementwise("swigluAVX2", "out = silu(a)·b", []string{"a", "b"}, func(in []VecVirtual) VecVirtual {
		s := sigmoid(in[0])
		VMULPS(in[0], s, s)
		VMULPS(in[1], s, s)
		return s
	})
	elementwise("swigluGradGateAVX2", "out = dy·b·σ(a)·(1 + a·(1 − σ(a)))", []string{"a", "b", "dy"}, func(in []VecVirtual) VecVirtual {
		s := sigmoid(in[0])
		t := YMM()
		VMOVUPS(consts.Offset(offset("one")), t)
		VSUBPS(s, t, t)                                     // 1 − σ
		VFMADD213PS(consts.Offset(offset("one")), in[0], t) // a·(1 − σ) + 1
		VMULPS(s, t, t)
		VMULPS(in[1], t, t)
		VMULPS(in[2], t, t)
		return t
	})
	elementwise("swigluGradUpAVX2", "out = dy·silu(a)", []string{"a", "dy"}, func(in []VecVirtual) VecVirtual {
		s := sigmoid(in[0])
		VMULPS(in[0], s, s)
		VMULPS(in[1], s, s)
		return s
	})
	unary("geluAVX2", "x·Φ(x)", func(x VecVirtual) VecVirtual {
		cdf, _ := normal(x)
		VMULPS(x, cdf, cdf)
		return cdf
	})
	elementwise("geluGradAVX2", "out = dy·(Φ(x) + x·φ(x))", []string{"x", "dy"}, func(in []VecVirtual) VecVirtual {
		cdf, pdf := normal(in[0])
		VFMADD231PS(in[0], pdf, cdf)
		VMULPS(in[1], cdf, cdf)
		return cdf
	})
	Generate()
}

// declareConsts writes the constants' table.
func declareConsts(cs []struct {
	name string
	bits uint32
}) {
	consts = GLOBL("vecconsts", RODATA|NOPTR)
	for i, c := range cs {
		constIndex[c.name] = i
		for l := 0; l < 8; l++ {
			DATA(32*i+4*l, U32(c.bits))
		}
	}
}

// c is the YMM-wide constant name in memory.
func c(name string) Mem { return consts.Offset(offset(name)) }

func offset(name string) int {
	i, ok := constIndex[name]
	if !ok {
		panic("no constant " + name)
	}
	return 32 * i
}

// exp returns e^x in a new register, x unchanged.
func exp(x VecVirtual) VecVirtual {
	n := YMM()
	VMULPS(c("log2e"), x, n)
	VROUNDPS(U8(0), n, n)
	r := YMM()
	VMOVAPS(x, r)
	VFNMADD231PS(c("ln2hi"), n, r)
	VFNMADD231PS(c("ln2lo"), n, r)
	p := YMM()
	VMOVUPS(c("p0"), p)
	for _, k := range []string{"p1", "p2", "p3", "p4", "p5"} {
		VFMADD213PS(c(k), r, p)
	}
	r2 := YMM()
	VMULPS(r, r, r2)
	VFMADD213PS(r, r2, p)
	VADDPS(c("one"), p, p)
	VCVTPS2DQ(n, n)
	VPSLLD(U8(23), n, n)
	VPADDD(n, p, p)
	m := YMM()
	VCMPPS(U8(0x1e), c("exphi"), x, m) // x > hi, ordered
	VBLENDVPS(m, c("inf"), p, p)
	VCMPPS(U8(0x11), c("explo"), x, m) // x < lo, ordered
	VANDNPS(p, m, p)
	return p
}

// sigmoid returns 1/(1 + e^−x) in a new register.
func sigmoid(x VecVirtual) VecVirtual {
	nx := YMM()
	VXORPS(c("sign"), x, nx)
	e := exp(nx)
	VADDPS(c("one"), e, e)
	s := YMM()
	VMOVUPS(c("one"), s)
	VDIVPS(e, s, s)
	return s
}

// normal returns the standard normal distribution's Φ(x) and density φ(x)
// in new registers. With u = |x|/√2, t = 1/(1 + p·u) and
// q = t(a1 + t(a2 + t(a3 + t(a4 + t·a5)))), erfc(u) ≈ q·e^(−u²), so that
// Φ(x) = ½q·e^(−x²/2) for x < 0 and 1 − ½q·e^(−x²/2) otherwise.
func normal(x VecVirtual) (cdf, pdf VecVirtual) {
	x2 := YMM()
	VMULPS(x, x, x2)
	VMULPS(c("neghalf"), x2, x2)
	e := exp(x2)
	ax := YMM()
	VANDPS(c("abs"), x, ax)
	t := YMM()
	VMOVUPS(c("one"), t)
	VFMADD231PS(c("erfp"), ax, t) // 1 + p·|x|/√2
	one := YMM()
	VMOVUPS(c("one"), one)
	VDIVPS(t, one, t)
	q := YMM()
	VMOVUPS(c("a5"), q)
	for _, k := range []string{"a4", "a3", "a2", "a1"} {
		VFMADD213PS(c(k), t, q)
	}
	VMULPS(t, q, q)
	VMULPS(c("half"), q, q)
	VMULPS(e, q, q) // ½ erfc(|x|/√2) = Φ(−|x|)
	cdf = YMM()
	VSUBPS(q, one, cdf)       // 1 − Φ(−|x|) = Φ(|x|)
	VBLENDVPS(x, q, cdf, cdf) // sign bit of x set: Φ(x) = Φ(−|x|)
	pdf = e
	VMULPS(c("invsqrt2pi"), pdf, pdf)
	return cdf, pdf
}

// unary writes func name(dst, x *float32, n int): dst = f(x).
func unary(name, what string, f func(VecVirtual) VecVirtual) {
	elementwise(name, "dst = "+what, []string{"x"}, func(in []VecVirtual) VecVirtual { return f(in[0]) })
}

// elementwise writes func name(dst, in... *float32, n int), 8 elements per
// step.
func elementwise(name, what string, ins []string, f func([]VecVirtual) VecVirtual) {
	sig := "func(dst"
	for _, in := range ins {
		sig += ", " + in
	}
	TEXT(name, NOSPLIT, sig+" *float32, n int)")
	Doc(fmt.Sprintf("%s writes %s for n elements, n a multiple of 8.", name, what))
	dst := Load(Param("dst"), GP64())
	ptrs := make([]Register, len(ins))
	for i, in := range ins {
		ptrs[i] = Load(Param(in), GP64())
	}
	n := Load(Param("n"), GP64())
	SHRQ(U8(3), n)
	JZ(LabelRef(name + "_done"))
	Label(name + "_loop")
	vs := make([]VecVirtual, len(ins))
	for i, p := range ptrs {
		vs[i] = YMM()
		VMOVUPS(Mem{Base: p}, vs[i])
	}
	out := f(vs)
	VMOVUPS(out, Mem{Base: dst})
	ADDQ(U8(32), dst)
	for _, p := range ptrs {
		ADDQ(U8(32), p)
	}
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// hsum leaves the sum of acc's eight lanes in the low lane of acc's XMM.
func hsum(acc VecVirtual) {
	hi := XMM()
	VEXTRACTF128(U8(1), acc, hi)
	VADDPS(hi, acc.AsX(), acc.AsX())
	VHADDPS(acc.AsX(), acc.AsX(), acc.AsX())
	VHADDPS(acc.AsX(), acc.AsX(), acc.AsX())
}

// dot writes func dotAVX2(x, y *float32, n int) float32.
func dot() {
	TEXT("dotAVX2", NOSPLIT, "func(x, y *float32, n int) float32")
	Doc("dotAVX2 returns Σ x[i]·y[i] for n elements, n a multiple of 8.")
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	acc := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	blocks := GP64()
	MOVQ(n, blocks)
	SHRQ(U8(5), blocks)
	JZ(LabelRef("dot_tail"))
	Label("dot_loop")
	for i, a := range acc {
		t := YMM()
		VMOVUPS(Mem{Base: x, Disp: 32 * i}, t)
		VFMADD231PS(Mem{Base: y, Disp: 32 * i}, t, a)
	}
	ADDQ(U8(128), x)
	ADDQ(U8(128), y)
	DECQ(blocks)
	JNZ(LabelRef("dot_loop"))
	Label("dot_tail")
	ANDQ(U8(31), n)
	SHRQ(U8(3), n)
	JZ(LabelRef("dot_sum"))
	Label("dot_tailloop")
	t := YMM()
	VMOVUPS(Mem{Base: x}, t)
	VFMADD231PS(Mem{Base: y}, t, acc[0])
	ADDQ(U8(32), x)
	ADDQ(U8(32), y)
	DECQ(n)
	JNZ(LabelRef("dot_tailloop"))
	Label("dot_sum")
	VADDPS(acc[1], acc[0], acc[0])
	VADDPS(acc[3], acc[2], acc[2])
	VADDPS(acc[2], acc[0], acc[0])
	hsum(acc[0])
	VZEROUPPER()
	Store(acc[0].AsX(), ReturnIndex(0))
	RET()
}

// broadcastParam loads the float32 parameter name into every lane of a
// new register.
func broadcastParam(name string) VecVirtual {
	s := Load(Param(name), XMM())
	v := YMM()
	VBROADCASTSS(s, v)
	return v
}

// axpy writes func axpyAVX2(alpha float32, x, y *float32, n int).
func axpy() {
	TEXT("axpyAVX2", NOSPLIT, "func(alpha float32, x, y *float32, n int)")
	Doc("axpyAVX2 adds alpha·x[i] to y[i] for n elements, n a multiple of 8.")
	alpha := broadcastParam("alpha")
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	SHRQ(U8(3), n)
	JZ(LabelRef("axpy_done"))
	Label("axpy_loop")
	t := YMM()
	VMOVUPS(Mem{Base: y}, t)
	VFMADD231PS(Mem{Base: x}, alpha, t)
	VMOVUPS(t, Mem{Base: y})
	ADDQ(U8(32), x)
	ADDQ(U8(32), y)
	DECQ(n)
	JNZ(LabelRef("axpy_loop"))
	Label("axpy_done")
	VZEROUPPER()
	RET()
}

// scale writes func scaleAVX2(alpha float32, x *float32, n int).
func scale() {
	TEXT("scaleAVX2", NOSPLIT, "func(alpha float32, x *float32, n int)")
	Doc("scaleAVX2 multiplies x[i] by alpha for n elements, n a multiple of 8.")
	alpha := broadcastParam("alpha")
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	SHRQ(U8(3), n)
	JZ(LabelRef("scale_done"))
	Label("scale_loop")
	t := YMM()
	VMULPS(Mem{Base: x}, alpha, t)
	VMOVUPS(t, Mem{Base: x})
	ADDQ(U8(32), x)
	DECQ(n)
	JNZ(LabelRef("scale_loop"))
	Label("scale_done")
	VZEROUPPER()
	RET()
}

// expShift writes func expShiftAVX2(dst, x *float32, n int, shift, scale
// float32).
func expShift() {
	TEXT("expShiftAVX2", NOSPLIT, "func(dst, x *float32, n int, shift, scale float32)")
	Doc("expShiftAVX2 writes dst[i] = scale·e^(x[i] − shift) for n elements, n a multiple of 8.")
	shift := broadcastParam("shift")
	sc := broadcastParam("scale")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	SHRQ(U8(3), n)
	JZ(LabelRef("expshift_done"))
	Label("expshift_loop")
	t := YMM()
	VMOVUPS(Mem{Base: x}, t)
	VSUBPS(shift, t, t)
	e := exp(t)
	VMULPS(sc, e, e)
	VMOVUPS(e, Mem{Base: dst})
	ADDQ(U8(32), x)
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef("expshift_loop"))
	Label("expshift_done")
	VZEROUPPER()
	RET()
}

// expSum writes func expSumAVX2(x *float32, n int, shift float32) float32.
func expSum() {
	TEXT("expSumAVX2", NOSPLIT, "func(x *float32, n int, shift float32) float32")
	Doc("expSumAVX2 returns Σ e^(x[i] − shift) for n elements, n a multiple of 8.")
	shift := broadcastParam("shift")
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	acc := YMM()
	VXORPS(acc, acc, acc)
	SHRQ(U8(3), n)
	JZ(LabelRef("expsum_done"))
	Label("expsum_loop")
	t := YMM()
	VMOVUPS(Mem{Base: x}, t)
	VSUBPS(shift, t, t)
	e := exp(t)
	VADDPS(e, acc, acc)
	ADDQ(U8(32), x)
	DECQ(n)
	JNZ(LabelRef("expsum_loop"))
	Label("expsum_done")
	hsum(acc)
	VZEROUPPER()
	Store(acc.AsX(), ReturnIndex(0))
	RET()
}

// maxKernel writes func maxAVX2(x *float32, n int) float32.
func maxKernel() {
	TEXT("maxAVX2", NOSPLIT, "func(x *float32, n int) float32")
	Doc("maxAVX2 returns the largest of n elements, n a positive multiple of 8 (NaNs are not propagated).")
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	acc := YMM()
	VMOVUPS(Mem{Base: x}, acc)
	SHRQ(U8(3), n)
	Label("max_loop")
	VMAXPS(Mem{Base: x}, acc, acc)
	ADDQ(U8(32), x)
	DECQ(n)
	JNZ(LabelRef("max_loop"))
	hi := XMM()
	VEXTRACTF128(U8(1), acc, hi)
	VMAXPS(hi, acc.AsX(), acc.AsX())
	VPERMILPS(U8(0x4e), acc.AsX(), hi)
	VMAXPS(hi, acc.AsX(), acc.AsX())
	VPERMILPS(U8(0xb1), acc.AsX(), hi)
	VMAXPS(hi, acc.AsX(), acc.AsX())
	VZEROUPPER()
	Store(acc.AsX(), ReturnIndex(0))
	RET()
}

// compress writes func compressM<m>AVX2(z, x, v *float32, blocks int):
// z[s] = <x[s·m:(s+1)·m], v> for 8·blocks sub-tokens laid end to end. The
// eight dot products of a block are summed across lanes together by a tree
// of horizontal adds, so that z is written a register at a time.
func compress(m int) {
	name := fmt.Sprintf("compressM%dAVX2", m)
	TEXT(name, NOSPLIT, "func(z, x, v *float32, blocks int)")
	Doc(fmt.Sprintf("%s writes z[s] = Σ_i x[s·%d + i]·v[i] for 8·blocks sub-tokens of %d elements.", name, m, m))
	z := Load(Param("z"), GP64())
	x := Load(Param("x"), GP64())
	vp := Load(Param("v"), GP64())
	blocks := Load(Param("blocks"), GP64())
	chunks := m / 8
	v := make([]VecVirtual, chunks)
	for i := range v {
		v[i] = YMM()
		VMOVUPS(Mem{Base: vp, Disp: 32 * i}, v[i])
	}
	TESTQ(blocks, blocks)
	JZ(LabelRef(name + "_done"))
	Label(name + "_loop")
	acc := make([]VecVirtual, 8)
	for j := range acc {
		acc[j] = YMM()
		for i := range v {
			src := Mem{Base: x, Disp: 4 * (j*m + 8*i)}
			if i == 0 {
				VMULPS(src, v[0], acc[j])
			} else {
				VFMADD231PS(src, v[i], acc[j])
			}
		}
	}
	// Pairwise horizontal adds: after two levels h[0] holds, per 128-bit
	// half, the partial sums of sub-tokens 0-3 and h[1] those of 4-7.
	VHADDPS(acc[1], acc[0], acc[0])
	VHADDPS(acc[3], acc[2], acc[2])
	VHADDPS(acc[5], acc[4], acc[4])
	VHADDPS(acc[7], acc[6], acc[6])
	VHADDPS(acc[2], acc[0], acc[0])
	VHADDPS(acc[6], acc[4], acc[4])
	lo, hi := YMM(), YMM()
	VPERM2F128(U8(0x20), acc[4], acc[0], lo)
	VPERM2F128(U8(0x31), acc[4], acc[0], hi)
	VADDPS(hi, lo, lo)
	VMOVUPS(lo, Mem{Base: z})
	ADDQ(U32(32*m), x)
	ADDQ(U8(32), z)
	DECQ(blocks)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
