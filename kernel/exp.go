package kernel

import "math"

// expShift32 is ExpShift's float32 path (see vec_amd64.go).
var expShift32 = expShiftGo

// Exp writes dst[i] = e^x[i]. It panics if dst and x differ in length.
//
// float64 is math.Exp. float32 is Cephes' expf (S. L. Moshier, "Methods and
// Programs for Mathematical Functions", 1989): n = round(x·log₂e),
// r = x − n·ln 2 in two parts, e^r by a polynomial, 2^n added to the
// exponent. Over [−87.33654, 88.72283] it is within 2 ulp of the rounded
// e^x (1 ulp measured, see exp_test.go); below, where e^x is subnormal, it
// gives 0, and above, +Inf; NaN gives NaN. On amd64 with AVX2 and FMA it
// runs eight lanes at a time in assembly.
func Exp[T Float](dst, x []T) { ExpShift(dst, x, 0, 1) }

// ExpShift writes dst[i] = scale·e^(x[i] − shift), the form of softmax's
// and cross-entropy's exp(x − lse), with x[i] − shift rounded to T. It
// panics if dst and x differ in length. Its accuracy is Exp's.
func ExpShift[T Float](dst, x []T, shift, scale T) {
	checkLengths("exp", len(dst), len(x))
	if d32, ok := any(&dst).(*[]float32); ok {
		expShift32(*d32, *any(&x).(*[]float32), float32(shift), float32(scale))
		return
	}
	for i, xi := range x {
		dst[i] = T(math.Exp(float64(xi-shift)) * float64(scale))
	}
}

func expShiftGo(dst, x []float32, shift, scale float32) {
	dst = dst[:len(x)]
	for i, xi := range x {
		dst[i] = scale * exp32(xi-shift)
	}
}

// The bounds of exp32's computed range: below expLo the result would be
// subnormal and is 0, above expHi it overflows to +Inf. Each is one float32
// step inside the exact bound ln 2⁻¹²⁶ or ln MaxFloat32, so that r's
// rounding never leaves 2ⁿ·e^r outside the normal range. The generator
// in internal/asmgen/vec computes the same two values.
const (
	expLo = -87.33653259277344 // 0xc2aeac4e
	expHi = 88.72282409667969  // 0x42b17216
)

// Cephes' expf: ln 2 in two parts (ln2Hi has 9 significant bits, so that
// n·ln2Hi is exact) and the coefficients of e^r ≈ 1 + r + r²·p(r).
const (
	ln2Hi = 0.693359375
	ln2Lo = -2.12194440e-4
	expP0 = 1.9875691500e-4
	expP1 = 1.3981999507e-3
	expP2 = 8.3334519073e-3
	expP3 = 4.1665795894e-2
	expP4 = 1.6666665459e-1
	expP5 = 5.0000001201e-1
)

// exp32 is e^x in float32 arithmetic, the assembly's algorithm lane by
// lane.
func exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > expHi:
		return float32(math.Inf(1))
	case x < expLo:
		return 0
	}
	n := float32(math.RoundToEven(float64(x * math.Log2E)))
	r := x - n*ln2Hi
	r -= n * ln2Lo
	p := float32(expP0)
	p = p*r + expP1
	p = p*r + expP2
	p = p*r + expP3
	p = p*r + expP4
	p = p*r + expP5
	p = p*(r*r) + r
	p++
	return math.Float32frombits(math.Float32bits(p) + uint32(int32(n))<<23)
}
