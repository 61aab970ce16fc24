package op

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// float is the set of element types the ops compute in.
type float interface {
	float32 | float64
}

// blasImpl is gonum's pure-Go BLAS, the same implementation gorgonia's
// tensor package uses; its matrix multiply runs on every core.
var blasImpl gonum.Implementation

func transpose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices, where
// op(a) is m×k and op(b) is k×n, each transposed when its flag is set.
func gemm[T float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float64:
		blasImpl.Dgemm(transpose(transA), transpose(transB), m, n, k,
			float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	case []float32:
		blasImpl.Sgemm(transpose(transA), transpose(transB), m, n, k,
			float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	}
}

// groups returns the number of sub-tokens of length m in a row of width d,
// counting a zero-padded last one.
func groups(d, m int) int { return (d + m - 1) / m }
