package kernel

import "math"

// gelu32 and geluGrad32 are GELU's float32 paths (see vec_amd64.go).
var (
	gelu32     = geluGo
	geluGrad32 = geluGradGo
)

// GELU writes the exact Gaussian error linear unit out[i] = x[i]·Φ(x[i]),
// Φ(x) = ½(1 + erf(x/√2)). It panics if out and x differ in length.
//
// float64 uses math.Erf. float32 uses Abramowitz and Stegun's 7.1.26,
// erfc(u) ≈ t(a₁ + t(a₂ + t(a₃ + t(a₄ + t·a₅))))·e^(−u²) with
// t = 1/(1 + p·u), whose error is at most 1.5e-7; in float32 arithmetic
// Φ is within 5e-7 of the exact value (see gelu_test.go).
func GELU[T Float](out, x []T) {
	checkLengths("gelu", len(out), len(x))
	if o32, ok := any(out).([]float32); ok {
		gelu32(o32, any(x).([]float32))
		return
	}
	for i, v := range x {
		cdf, _ := normal64(float64(v))
		out[i] = T(float64(v) * cdf)
	}
}

// GELUGrad writes GELU's gradient given the output's gradient g:
// out[i] = g[i]·(Φ(x[i]) + x[i]·φ(x[i])), φ the standard normal density.
// It panics if the slices differ in length.
func GELUGrad[T Float](out, x, g []T) {
	checkLengths("gelu", len(out), len(x), len(g))
	if o32, ok := any(out).([]float32); ok {
		geluGrad32(o32, any(x).([]float32), any(g).([]float32))
		return
	}
	for i, v := range x {
		x := float64(v)
		cdf, pdf := normal64(x)
		out[i] = g[i] * T(cdf+x*pdf)
	}
}

// normal64 is the standard normal distribution's Φ(x) and density φ(x).
func normal64(x float64) (cdf, pdf float64) {
	return 0.5 * (1 + math.Erf(x/math.Sqrt2)), math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
}

// Abramowitz and Stegun 7.1.26; erfP is their p over √2, for t = 1/(1 + p·|x|/√2).
const (
	erfP       = 0.3275911 / math.Sqrt2
	erfA1      = 0.254829592
	erfA2      = -0.284496736
	erfA3      = 1.421413741
	erfA4      = -1.453152027
	erfA5      = 1.061405429
	invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
)

// normal32 is Φ(x) and φ(x) in float32 arithmetic, the assembly's
// algorithm: with e = e^(−x²/2) and q = ½·erfc(|x|/√2) = Φ(−|x|),
// Φ(x) = q for negative x and 1 − q otherwise.
func normal32(x float32) (cdf, pdf float32) {
	e := exp32(x * x * -0.5)
	t := 1 / (1 + erfP*float32(math.Abs(float64(x))))
	q := (((erfA5*t+erfA4)*t+erfA3)*t+erfA2)*t + erfA1
	q = q * t * 0.5 * e
	cdf = 1 - q
	if math.Signbit(float64(x)) {
		cdf = q
	}
	return cdf, e * invSqrt2Pi
}

func geluGo(out, x []float32) {
	out = out[:len(x)]
	for i, v := range x {
		cdf, _ := normal32(v)
		out[i] = v * cdf
	}
}

func geluGradGo(out, x, g []float32) {
	out, g = out[:len(x)], g[:len(x)]
	for i, v := range x {
		cdf, pdf := normal32(v)
		out[i] = g[i] * (cdf + v*pdf)
	}
}
