package kernel

import "fmt"

// compress32 is Compress's float32 path for whole sub-tokens (see
// vec_amd64.go).
var compress32 = compressGo[float32]

// Compress writes the VeLoRA projections of the sub-tokens of x laid end to
// end: z[s] = Σ_i x[s·M + i]·v[i] with M = len(v), for the ceil(len(x)/M)
// sub-tokens of x, the last one zero-padded when M does not divide len(x)
// (Miles et al., arXiv 2405.17991). It panics if len(z) is not
// ceil(len(x)/M) or v is empty.
//
// On amd64 with AVX2 and FMA, float32 with M = 8, 16 or 32 runs an
// assembly kernel that computes eight sub-tokens at once.
func Compress[T Float](z, x, v []T) {
	m := len(v)
	if m == 0 || len(z) != (len(x)+m-1)/m {
		panic(fmt.Sprintf("kernel: compress: z has %d elements for %d of x and sub-tokens of %d: expected ceil(%d/%d), and a non-empty v",
			len(z), len(x), m, len(x), max(m, 1)))
	}
	full := len(x) / m
	if z32, ok := any(z).([]float32); ok {
		compress32(z32[:full], any(x).([]float32)[:full*m], any(v).([]float32))
	} else {
		compressGo(z[:full], x[:full*m], v)
	}
	if full < len(z) {
		rest := x[full*m:]
		z[full] = Dot(rest, v[:len(rest)])
	}
}

// compressGo writes z[s] = <x[sM:(s+1)M], v> for whole sub-tokens, two
// sub-tokens at a time with two partial sums each, so that the loads and
// adds of neighbouring iterations overlap.
func compressGo[T Float](z, x, v []T) {
	m := len(v)
	s := 0
	for ; s+1 < len(z); s += 2 {
		a, b := x[s*m:(s+1)*m], x[(s+1)*m:(s+2)*m]
		var a0, a1, b0, b1 T
		i := 0
		for ; i+1 < m; i += 2 {
			a0 += a[i] * v[i]
			a1 += a[i+1] * v[i+1]
			b0 += b[i] * v[i]
			b1 += b[i+1] * v[i+1]
		}
		if i < m {
			a0 += a[i] * v[i]
			b0 += b[i] * v[i]
		}
		z[s], z[s+1] = a0+a1, b0+b1
	}
	if s < len(z) {
		z[s] = dotGo(x[s*m:(s+1)*m], v)
	}
}
