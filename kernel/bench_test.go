package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// modelShapes are the GEMMs of a training step of the bench's LLaMA
// (8 × 256 tokens, width 256, MLP 688): forward products, the input
// gradient g·wᵀ and the weight gradient xᵀ·g.
var modelShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{"x·w/2048x256x256", false, false, 2048, 256, 256},
	{"x·w/2048x688x256", false, false, 2048, 688, 256},
	{"x·w/2048x256x688", false, false, 2048, 256, 688},
	{"g·wT/2048x688x256", false, true, 2048, 688, 256},
	{"xT·g/256x688x2048", true, false, 256, 688, 2048},
}

// sinkF32 keeps the benchmarks' results alive.
var sinkF32 []float32

func BenchmarkSgemm(b *testing.B) {
	for _, s := range modelShapes {
		for _, impl := range []struct {
			name string
			f    gemmFunc[float32]
		}{{"kernel", Gemm[float32]}, {"gonum", gonumGemm[float32]}} {
			b.Run(fmt.Sprintf("%s/%s", s.name, impl.name), func(b *testing.B) {
				benchmarkGemm(b, impl.f, s.transA, s.transB, s.m, s.n, s.k)
			})
		}
	}
}

func benchmarkGemm(b *testing.B, f gemmFunc[float32], transA, transB bool, m, n, k int) {
	rng := rand.New(rand.NewPCG(1, 1))
	a, bm, c := randomF32(rng, m*k), randomF32(rng, k*n), make([]float32, m*n)
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	b.ResetTimer()
	for b.Loop() {
		f(transA, transB, m, n, k, 1, a, lda, bm, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	sinkF32 = c
}

func randomF32(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}
