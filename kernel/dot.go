package kernel

// dot32 is Dot's float32 path: dotGo unless the CPU has a faster one (see
// vec_amd64.go). It and the other *32 variables assume equal lengths.
var dot32 = dotGo[float32]

// Dot returns Σ x[i]·y[i]. It panics if x and y differ in length.
//
// On amd64 with AVX2 and FMA the float32 sum runs in assembly over eight
// lanes with four partial sums; its rounding differs from the pure-Go
// loop's by the order of the additions only.
func Dot[T Float](x, y []T) T {
	checkLengths("dot", len(x), len(y))
	if x32, ok := any(x).([]float32); ok {
		return T(dot32(x32, any(y).([]float32)))
	}
	return dotGo(x, y)
}

// dotGo is Σ x[i]·y[i] over x's length (y at least as long), four partial
// sums at a time so that the adds do not wait on each other.
func dotGo[T Float](x, y []T) T {
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
