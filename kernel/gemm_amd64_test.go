//go:build !purego

package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestPackedGemmPaths runs the cases through every assembly path the CPU
// has, not only the one Gemm picks.
func TestPackedGemmPaths(t *testing.T) {
	paths := []struct {
		name string
		ok   bool
		f32  *packedGemm[float32]
		f64  *packedGemm[float64]
	}{
		{"avx2", hasAVX2FMA, &sgemmAVX2, &dgemmAVX2},
		{"avx512", hasAVX512, &sgemmAVX512, &dgemmAVX512},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, p := range paths {
		if !p.ok {
			t.Logf("%s: not on this CPU", p.name)
			continue
		}
		for _, tc := range gemmCases() {
			if tc.m == 0 || tc.n == 0 || tc.k == 0 || tc.alpha == 0 {
				continue // Gemm handles these before any path
			}
			a, b, c, lda, ldb, ldc := tc.operands(rng)
			want, size := tc.reference(a, lda, b, ldb, c, ldc)
			got := append([]float64(nil), c...)
			p.f64.run(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc)
			if rel, untouched := frobeniusError(got, want, size, c, tc.m, tc.n, ldc); rel > 1e-13 || !untouched {
				t.Errorf("%s float64 %v: relative error %.3g, columns past n untouched: %t", p.name, tc, rel, untouched)
			}
			a32, b32, c32 := to32(a), to32(b), to32(c)
			got32 := append([]float32(nil), c32...)
			p.f32.run(tc.transA, tc.transB, tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), got32, ldc)
			// The inputs' rounding to float32 alone moves the result by
			// about 2⁻²⁴ of the terms' size; the sums add √k times that.
			if rel, untouched := frobeniusError(to64(got32), want, size, to64(c32), tc.m, tc.n, ldc); rel > 1e-6 || !untouched {
				t.Errorf("%s float32 %v: relative error %.3g, columns past n untouched: %t", p.name, tc, rel, untouched)
			}
		}
	}
}

// BenchmarkPackedSgemm compares the assembly paths at the model's shapes.
func BenchmarkPackedSgemm(b *testing.B) {
	for _, s := range modelShapes {
		for _, p := range []struct {
			name string
			ok   bool
			g    *packedGemm[float32]
		}{{"avx2", hasAVX2FMA, &sgemmAVX2}, {"avx512", hasAVX512, &sgemmAVX512}} {
			if p.ok {
				b.Run(s.name+"/"+p.name, func(b *testing.B) { benchmarkGemm(b, p.g.run, s.transA, s.transB, s.m, s.n, s.k) })
			}
		}
	}
}

// BenchmarkInPlaceA compares reading a's panels in place (alpha = 1) with
// packing them (any other alpha, here the float32 just below 1) at the
// model's forward shapes.
func BenchmarkInPlaceA(b *testing.B) {
	for _, s := range modelShapes[:3] {
		for _, alpha := range []float32{1, 1 - 1.0/(1<<24)} {
			name := "in-place"
			if alpha != 1 {
				name = "packed"
			}
			b.Run(s.name+"/"+name, func(b *testing.B) {
				f := func(transA, transB bool, m, n, k int, _ float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
					Gemm(transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
				}
				benchmarkGemm(b, f, s.transA, s.transB, s.m, s.n, s.k)
			})
		}
	}
}
