package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchN is the element count of the vector benchmarks: one row-block of
// the bench model's MLP activations (8·256 tokens × 688 would not fit L2).
const benchN = 1 << 14

// The scalar loops the float32 kernels replace in packages op and nn: float64
// math.Exp per element.
func scalarExp(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(math.Exp(float64(v)))
	}
}

func scalarSwiGLU(out, a, b []float32) {
	for i, v := range a {
		ai := float64(v)
		out[i] = float32(ai/(1+math.Exp(-ai))) * b[i]
	}
}

func scalarGELU(out, x []float32) {
	for i, v := range x {
		xf := float64(v)
		out[i] = float32(xf * 0.5 * (1 + math.Erf(xf/math.Sqrt2)))
	}
}

// benchVec times f on benchN elements, reporting elements as bytes/4.
func benchVec(b *testing.B, f func(out, a, g []float32)) {
	rng := rand.New(rand.NewPCG(1, 1))
	a, g, out := randomVec(rng, benchN, -8, 8), randomVec(rng, benchN, -1, 1), make([]float32, benchN)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		f(out, a, g)
	}
	sinkF32 = out
}

func BenchmarkExp(b *testing.B) {
	b.Run("scalar", func(b *testing.B) { benchVec(b, func(o, a, _ []float32) { scalarExp(o, a) }) })
	b.Run("kernel", func(b *testing.B) { benchVec(b, func(o, a, _ []float32) { Exp(o, a) }) })
}

func BenchmarkSwiGLU(b *testing.B) {
	b.Run("scalar", func(b *testing.B) { benchVec(b, scalarSwiGLU) })
	b.Run("kernel", func(b *testing.B) { benchVec(b, SwiGLU[float32]) })
	b.Run("kernel-grad-gate", func(b *testing.B) {
		benchVec(b, func(o, a, g []float32) { SwiGLUGradGate(o, a, g, g) })
	})
}

func BenchmarkGELU(b *testing.B) {
	b.Run("scalar", func(b *testing.B) { benchVec(b, func(o, a, _ []float32) { scalarGELU(o, a) }) })
	b.Run("kernel", func(b *testing.B) { benchVec(b, func(o, a, _ []float32) { GELU(o, a) }) })
	b.Run("kernel-grad", func(b *testing.B) { benchVec(b, GELUGrad[float32]) })
}

func BenchmarkSigmoid(b *testing.B) {
	b.Run("scalar", func(b *testing.B) {
		benchVec(b, func(o, a, _ []float32) {
			for i, v := range a {
				o[i] = float32(1 / (1 + math.Exp(-float64(v))))
			}
		})
	})
	b.Run("kernel", func(b *testing.B) { benchVec(b, func(o, a, _ []float32) { Sigmoid(o, a) }) })
}

func BenchmarkLogSumExp(b *testing.B) {
	b.Run("scalar", func(b *testing.B) {
		benchVec(b, func(o, a, _ []float32) {
			m := math.Inf(-1)
			for _, v := range a {
				m = max(m, float64(v))
			}
			var s float64
			for _, v := range a {
				s += math.Exp(float64(v) - m)
			}
			o[0] = float32(m + math.Log(s))
		})
	})
	b.Run("kernel", func(b *testing.B) { benchVec(b, func(o, a, _ []float32) { o[0] = LogSumExp(a) }) })
}

func BenchmarkDot(b *testing.B) {
	b.Run("scalar", func(b *testing.B) { benchVec(b, func(o, a, g []float32) { o[0] = dotGo(a, g) }) })
	b.Run("kernel", func(b *testing.B) { benchVec(b, func(o, a, g []float32) { o[0] = Dot(a, g) }) })
}

func BenchmarkAxpy(b *testing.B) {
	b.Run("scalar", func(b *testing.B) { benchVec(b, func(o, a, _ []float32) { axpyGo(0.5, a, o) }) })
	b.Run("kernel", func(b *testing.B) { benchVec(b, func(o, a, _ []float32) { Axpy(0.5, a, o) }) })
}
