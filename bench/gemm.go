package main

import (
	"fmt"
	"io"
	"math/rand"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/velora-go/velora/kernel"
)

// GEMMRow is one matrix product of the model's training step, in GFLOP/s
// per implementation: c (m×n) = op(a) (m×k) · op(b) (k×n), float32.
type GEMMRow struct {
	Name           string
	TransA, TransB bool
	M, N, K        int
	Kernel         float64 // kernel.Gemm (through kernel.BLAS)
	Gonum          float64 // gonum's pure-Go Sgemm
	OpenBLAS       float64 // OpenBLAS through cgo; 0 unless built with -tags openblas
}

// sgemmer is the float32 matrix multiply that kernel.BLAS, gonum's and
// netlib's Implementation share.
type sgemmer interface {
	Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// gemmRows are the step's products at the sizes of s: T = batch × sequence
// tokens, D = hidden, F = intermediate. Linear weights are stored (in, out),
// so the input gradient is g·wᵀ and the weight gradient xᵀ·g.
func gemmRows(s Sizes) []GEMMRow {
	t, d, f := s.Batch*s.Seq, s.LLaMA.Hidden, s.LLaMA.Intermediate
	return []GEMMRow{
		{Name: "forward x·w (q, k, v, o)", M: t, N: d, K: d},
		{Name: "forward x·w (gate, up)", M: t, N: f, K: d},
		{Name: "forward x·w (down)", M: t, N: d, K: f},
		{Name: "input gradient g·wᵀ (down)", TransB: true, M: t, N: f, K: d},
		{Name: "weight gradient xᵀ·g (gate, up)", TransA: true, M: d, N: f, K: t},
	}
}

// gemmRepeats is how many timed calls each figure is the best of.
const gemmRepeats = 10

// gemmImpl is one column of the GEMM table.
type gemmImpl struct {
	blas sgemmer
	dst  func(*GEMMRow) *float64
}

// gemmTable times every row under each implementation, side by side: one
// untimed call each, then gemmRepeats rounds that call each in turn,
// keeping each one's fastest call.
func gemmTable(s Sizes) []GEMMRow {
	rows := gemmRows(s)
	impls := []gemmImpl{
		{kernel.BLAS{}, func(r *GEMMRow) *float64 { return &r.Kernel }},
		{gonum.Implementation{}, func(r *GEMMRow) *float64 { return &r.Gonum }},
	}
	if openBLAS != nil {
		impls = append(impls, gemmImpl{openBLAS, func(r *GEMMRow) *float64 { return &r.OpenBLAS }})
	}
	rng := rand.New(rand.NewSource(1))
	for i := range rows {
		r := &rows[i]
		a, b, c := random(rng, r.M*r.K).Data().([]float32), random(rng, r.K*r.N).Data().([]float32), make([]float32, r.M*r.N)
		tA, lda := blas.NoTrans, r.K
		if r.TransA {
			tA, lda = blas.Trans, r.M
		}
		tB, ldb := blas.NoTrans, r.N
		if r.TransB {
			tB, ldb = blas.Trans, r.K
		}
		best := make([]float64, len(impls))
		for round := 0; round <= gemmRepeats; round++ {
			for k, impl := range impls {
				start := time.Now()
				impl.blas.Sgemm(tA, tB, r.M, r.N, r.K, 1, a, lda, b, ldb, 0, c, r.N)
				if d := time.Since(start).Seconds(); round > 0 && (best[k] == 0 || d < best[k]) {
					best[k] = d
				}
			}
		}
		sinkFloat = c[len(c)-1]
		flop := 2 * float64(r.M) * float64(r.N) * float64(r.K)
		for k, impl := range impls {
			*impl.dst(r) = flop / best[k] / 1e9
		}
	}
	return rows
}

func printGEMM(w io.Writer, number int, path string, rows []GEMMRow) {
	fmt.Fprintf(w, "## %d. GEMM GFLOP/s at the model's shapes, float32\n\n", number)
	head, rule := "| product | m × n × k | kernel | gonum | kernel / gonum |", "| --- | --- | ---: | ---: | ---: |"
	if openBLAS != nil {
		head, rule = head+" OpenBLAS | kernel / OpenBLAS |", rule+" ---: | ---: |"
	}
	fmt.Fprintf(w, "%s\n%s\n", head, rule)
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d × %d × %d | %.1f | %.1f | %.2f |", r.Name, r.M, r.N, r.K, r.Kernel, r.Gonum, ratio(r.Kernel, r.Gonum))
		if openBLAS != nil {
			fmt.Fprintf(w, " %.1f | %.2f |", r.OpenBLAS, ratio(r.Kernel, r.OpenBLAS))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nThe kernel column runs %s; each figure is the fastest of %d calls, after one untimed call, taken in turns with the other columns.\n\n",
		path, gemmRepeats)
}
