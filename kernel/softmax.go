package kernel

import "math"

// max32 and expSum32 are LogSumExp's float32 paths (see vec_amd64.go).
var (
	max32    = maxGo
	expSum32 = expSumGo
)

// LogSumExp returns log Σ e^x[i], from the largest x[i] so that no term
// overflows; −Inf for an empty x. float64 sums in float64 with math.Exp;
// float32 sums Exp's float32 terms and takes the logarithm in float64.
func LogSumExp[T Float](x []T) T {
	if x32, ok := any(x).([]float32); ok {
		if len(x32) == 0 {
			return T(math.Inf(-1))
		}
		m := max32(x32)
		return T(float64(m) + math.Log(float64(expSum32(x32, m))))
	}
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v))
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v) - m)
	}
	return T(m + math.Log(sum))
}

// Softmax writes dst[i] = e^x[i] / Σ_j e^x[j], as e^(x[i] − LogSumExp(x)).
// It panics if dst and x differ in length.
func Softmax[T Float](dst, x []T) {
	checkLengths("softmax", len(dst), len(x))
	ExpShift(dst, x, LogSumExp(x), 1)
}

// maxGo is the largest of a non-empty x, NaN if any is NaN.
func maxGo(x []float32) float32 {
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	return m
}

func expSumGo(x []float32, shift float32) float32 {
	var s float32
	for _, v := range x {
		s += exp32(v - shift)
	}
	return s
}
