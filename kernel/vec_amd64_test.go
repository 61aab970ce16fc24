//go:build !purego

package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestVecAssemblyMatchesGo runs every float32 kernel's dispatched path (the
// assembly on a CPU with AVX2 and FMA) beside its pure-Go path on the same
// unaligned inputs: they differ by FMA's rounding and the order of sums
// only, and neither modifies its inputs.
func TestVecAssemblyMatchesGo(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2 + FMA: the dispatched path is the pure-Go one")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	// Within 4 ulp of each other (Exp's error on each side, and σ's division).
	// or within an absolute bound where a sum cancels.
	close4 := func(name string, n int, got, want []float32, abs func(i int) float64) {
		t.Helper()
		for i := range got {
			d := math.Abs(float64(got[i] - want[i]))
			if d > 4*ulp32(want[i]) && d > 1e-30 && (abs == nil || d > abs(i)) {
				t.Errorf("%s n=%d [%d]: assembly %v, Go %v", name, n, i, got[i], want[i])
				return
			}
		}
	}
	for _, n := range vecLengths {
		a, b, g := randomVec(rng, n, -20, 20), randomVec(rng, n, -2, 2), randomVec(rng, n, -2, 2)
		a0, b0, g0 := append([]float32(nil), a...), append([]float32(nil), b...), append([]float32(nil), g...)
		got, want := make([]float32, n), make([]float32, n)
		pairs := []struct {
			name      string
			asm, pure func(out []float32)
			abs       func(i int) float64
		}{
			{"exp", func(o []float32) { expShift32(o, a, 0.5, 2) }, func(o []float32) { expShiftGo(o, a, 0.5, 2) }, nil},
			{"sigmoid", func(o []float32) { sigmoid32(o, a) }, func(o []float32) { sigmoidGo(o, a) }, nil},
			{"silu", func(o []float32) { silu32(o, a) }, func(o []float32) { siluGo(o, a) }, nil},
			{"swiglu", func(o []float32) { swiglu32(o, a, b) }, func(o []float32) { swigluGo(o, a, b) }, nil},
			{"swigluGradUp", func(o []float32) { swigluGradUp32(o, a, g) }, func(o []float32) { swigluGradUpGo(o, a, g) }, nil},
			{"gelu", func(o []float32) { gelu32(o, a) }, func(o []float32) { geluGo(o, a) }, nil},
			{"geluGrad", func(o []float32) { geluGrad32(o, a, g) }, func(o []float32) { geluGradGo(o, a, g) },
				func(i int) float64 { return 1e-6 * math.Abs(float64(g[i])) * (1 + math.Abs(float64(a[i]))) }}, // Φ + x·φ cancels for x < 0
			{"axpy", func(o []float32) { copy(o, b); axpy32(1.5, a, o) }, func(o []float32) { copy(o, b); axpyGo(1.5, a, o) }, nil},
			{"scale", func(o []float32) { copy(o, a); scale32(-0.25, o) }, func(o []float32) { copy(o, a); scaleGo(-0.25, o) }, nil},
		}
		for _, p := range pairs {
			p.asm(got)
			p.pure(want)
			close4(p.name, n, got, want, p.abs)
		}
		swigluGradGate32(got, a, b, g)
		swigluGradGateGo(want, a, b, g)
		for i := range got {
			// 1 + a(1 − σ) cancels near a = −1.28: bound by the terms' size.
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-6*math.Abs(float64(b[i]*g[i]))*(1+math.Abs(float64(a[i]))) {
				t.Errorf("swigluGradGate n=%d [%d]: assembly %v, Go %v", n, i, got[i], want[i])
				break
			}
		}
		if n > 0 {
			if x, y := max32(a), maxGo(a); x != y {
				t.Errorf("max n=%d: assembly %v, Go %v", n, x, y)
			}
			x, y := expSum32(a, 20), expSumGo(a, 20)
			if math.Abs(float64(x-y)) > 1e-6*float64(y) {
				t.Errorf("expSum n=%d: assembly %v, Go %v", n, x, y)
			}
			x, y = dot32(a, b), dotGo(a, b)
			if math.Abs(float64(x-y)) > 1e-5*float64(n) {
				t.Errorf("dot n=%d: assembly %v, Go %v", n, x, y)
			}
		}
		if !equalSlices(a, a0) || !equalSlices(b, b0) || !equalSlices(g, g0) {
			t.Errorf("n=%d: inputs modified", n)
		}
	}
	for _, m := range []int{8, 16, 24, 32} {
		v := randomVec(rng, m, -1, 1)
		for _, s := range []int{0, 1, 7, 8, 9, 17, 33} {
			x := randomVec(rng, s*m, -1, 1)
			got, want := make([]float32, s), make([]float32, s)
			compress32(got, x, v)
			compressGo(want, x, v)
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-6*float64(m) {
					t.Errorf("compress M=%d %d sub-tokens [%d]: assembly %v, Go %v", m, s, i, got[i], want[i])
					break
				}
			}
		}
	}
}
