package kernel

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
)

var _ gorgonia.BLAS = BLAS{}

// TestBLASMatchesGonum checks that the BLAS type reads gonum's transpose
// flags as Gemm's booleans.
func TestBLASMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	m, n, k := 9, 20, 7
	a, b := make([]float64, m*k), make([]float64, k*n)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for i := range b {
		b[i] = rng.NormFloat64()
	}
	for _, f := range []struct{ ta, tb blas.Transpose }{{blas.NoTrans, blas.NoTrans}, {blas.Trans, blas.NoTrans}, {blas.NoTrans, blas.ConjTrans}, {blas.Trans, blas.Trans}} {
		lda, ldb := k, n
		if f.ta != blas.NoTrans {
			lda = m
		}
		if f.tb != blas.NoTrans {
			ldb = k
		}
		got, want := make([]float64, m*n), make([]float64, m*n)
		BLAS{}.Dgemm(f.ta, f.tb, m, n, k, 1.5, a, lda, b, ldb, 0, got, n)
		gonum.Implementation{}.Dgemm(f.ta, f.tb, m, n, k, 1.5, a, lda, b, ldb, 0, want, n)
		for i := range got {
			if d := got[i] - want[i]; d > 1e-12 || d < -1e-12 {
				t.Fatalf("%v: element %d is %g, gonum's %g", f, i, got[i], want[i])
			}
		}
	}
}
