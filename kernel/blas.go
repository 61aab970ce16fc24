package kernel

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLAS is gonum's BLAS with this package's matrix multiply. Its zero value
// satisfies gorgonia's BLAS interface, so that
//
//	gorgonia.Use(kernel.BLAS{})
//
// runs every Mul of a plain gorgonia graph (and gorgonia.org/tensor's
// MatMul) on this package's kernels.
type BLAS struct {
	gonum.Implementation
}

// Sgemm computes c = alpha·op(a)·op(b) + beta·c in float32 (see Gemm).
func (BLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Gemm(transposed(tA), transposed(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm computes c = alpha·op(a)·op(b) + beta·c in float64 (see Gemm).
func (BLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	Gemm(transposed(tA), transposed(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// transposed reads a BLAS transpose flag; for real matrices ConjTrans is
// Trans.
func transposed(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic(fmt.Sprintf("kernel: transpose flag %d: expected blas.NoTrans, blas.Trans or blas.ConjTrans", t))
}
