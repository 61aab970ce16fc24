package kernel

import (
	"gonum.org/v1/gonum/blas"
)

// Sgemv computes y = alpha·op(a)·x + beta·y in float32 for the row-major
// m×n matrix a, op(a) = a or aᵀ. It is gonum's Sgemv, and panics as it does
// on a bad argument. Without a transpose and with unit increments it runs
// on Dot, rows split across GOMAXPROCS goroutines when large; otherwise
// gonum's (a row-by-row Axpy was 20% slower than gonum's transposed Sgemv
// at 1024×1024: go test ./kernel -bench Sgemv).
func (b BLAS) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	if tA != blas.NoTrans || incX != 1 || incY != 1 {
		b.Implementation.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	gemv(m, n, alpha, a, lda, x, beta, y)
}

// Dgemv computes y = alpha·op(a)·x + beta·y in float64 (see Sgemv).
func (b BLAS) Dgemv(tA blas.Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	if tA != blas.NoTrans || incX != 1 || incY != 1 {
		b.Implementation.Dgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	gemv(m, n, alpha, a, lda, x, beta, y)
}

// gemv is GEMV without a transpose and with unit increments, checked as
// gonum checks it.
func gemv[T Float](m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	switch {
	case m < 0:
		panic("blas: m < 0")
	case n < 0:
		panic("blas: n < 0")
	case lda < max(1, n):
		panic("blas: bad leading dimension of A")
	case m == 0 || n == 0:
		return
	case len(x) < n:
		panic("blas: insufficient length of x")
	case len(y) < m:
		panic("blas: insufficient length of y")
	case len(a) < lda*(m-1)+n:
		panic("blas: insufficient length of a")
	case alpha == 0 && beta == 1:
		return
	}
	x = x[:n]
	ParallelRows(m, n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var d T
			if alpha != 0 {
				d = alpha * Dot(a[i*lda:i*lda+n], x)
			}
			if beta == 0 {
				y[i] = d
			} else {
				y[i] = beta*y[i] + d
			}
		}
	})
}
