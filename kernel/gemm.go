package kernel

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gemmFunc computes c = alpha·op(a)·op(b) + beta·c on checked arguments with
// m, n > 0, k > 0 and alpha ≠ 0.
type gemmFunc[T Float] func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// sgemm and dgemm are the implementations Gemm dispatches to: gonum's
// pure-Go BLAS unless the CPU has a faster path (see cpu_amd64.go).
var (
	sgemm gemmFunc[float32] = gonumGemm[float32]
	dgemm gemmFunc[float64] = gonumGemm[float64]
)

// Gemm computes c = alpha·op(a)·op(b) + beta·c for row-major matrices, where
// op(a) is m×k and op(b) is k×n, each the transpose of the stored matrix
// when its flag is set. lda, ldb and ldc are the distances between
// consecutive rows of the stored a, b and c; only the first n columns of
// each row of c are read or written. With beta = 0, c is not read (NaNs in
// it do not propagate). It is the contract of BLAS's sgemm and dgemm (and of
// gonum's Implementation) with transpose flags as booleans, and it panics,
// as they do, when a size, leading dimension or slice length does not fit.
//
// On amd64 with AVX2 and FMA it runs an assembly micro-kernel over packed
// panels of a and b, split across GOMAXPROCS goroutines; elsewhere, or
// built with the purego tag, gonum's implementation.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	switch c := any(c).(type) {
	case []float32:
		sgemm(transA, transB, m, n, k, float32(alpha), any(a).([]float32), lda, any(b).([]float32), ldb, float32(beta), c, ldc)
	case []float64:
		dgemm(transA, transB, m, n, k, float64(alpha), any(a).([]float64), lda, any(b).([]float64), ldb, float64(beta), c, ldc)
	}
}

// checkGemm panics unless the arguments describe matrices that fit their
// slices, with a message that names the values.
func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernel: gemm sizes m=%d, n=%d, k=%d: expected none negative", m, n, k))
	}
	ar, ac := m, k // rows and columns of a as stored
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("a", ar, ac, la, lda)
	checkMatrix("b", br, bc, lb, ldb)
	checkMatrix("c", m, n, lc, ldc)
}

// checkMatrix panics unless a rows×cols row-major matrix with leading
// dimension ld fits in a slice of length l.
func checkMatrix(name string, rows, cols, l, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("kernel: gemm: leading dimension of %s is %d: expected at least %d", name, ld, max(1, cols)))
	}
	if rows > 0 && cols > 0 && l < (rows-1)*ld+cols {
		panic(fmt.Sprintf("kernel: gemm: %s has %d elements: a %d×%d matrix with leading dimension %d needs %d",
			name, l, rows, cols, ld, (rows-1)*ld+cols))
	}
}

// scaleRows sets c = beta·c on the first n columns of m rows (c = 0 when
// beta is 0, so that NaNs in c do not survive).
func scaleRows[T Float](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gonumGemm is gonum's pure-Go sgemm or dgemm.
func gonumGemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	var impl gonum.Implementation
	switch c := any(c).(type) {
	case []float32:
		impl.Sgemm(transpose(transA), transpose(transB), m, n, k, float32(alpha), any(a).([]float32), lda, any(b).([]float32), ldb, float32(beta), c, ldc)
	case []float64:
		impl.Dgemm(transpose(transA), transpose(transB), m, n, k, float64(alpha), any(a).([]float64), lda, any(b).([]float64), ldb, float64(beta), c, ldc)
	}
}

func transpose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}
