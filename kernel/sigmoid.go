package kernel

import "math"

// sigmoid32 and silu32 are Sigmoid's and SiLU's float32 paths (see
// vec_amd64.go).
var (
	sigmoid32 = sigmoidGo
	silu32    = siluGo
)

// Sigmoid writes dst[i] = σ(x[i]) = 1/(1 + e^−x[i]). It panics if dst and
// x differ in length. float32 uses Exp's float32 e^x and is within a few
// ulp of the rounded σ; float64 uses math.Exp.
func Sigmoid[T Float](dst, x []T) {
	checkLengths("sigmoid", len(dst), len(x))
	if d32, ok := any(dst).([]float32); ok {
		sigmoid32(d32, any(x).([]float32))
		return
	}
	for i, v := range x {
		dst[i] = T(sigmoid64(float64(v)))
	}
}

// SiLU writes dst[i] = x[i]·σ(x[i]), the sigmoid linear unit (swish). It
// panics if dst and x differ in length.
func SiLU[T Float](dst, x []T) {
	checkLengths("silu", len(dst), len(x))
	if d32, ok := any(dst).([]float32); ok {
		silu32(d32, any(x).([]float32))
		return
	}
	for i, v := range x {
		dst[i] = T(float64(v) * sigmoid64(float64(v)))
	}
}

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// sigmoidF32 is σ(x) in float32 arithmetic, the assembly's algorithm.
func sigmoidF32(x float32) float32 { return 1 / (1 + exp32(-x)) }

func sigmoidGo(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = sigmoidF32(v)
	}
}

func siluGo(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = v * sigmoidF32(v)
	}
}
