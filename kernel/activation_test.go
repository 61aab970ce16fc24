package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

func sigmoidRef(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// TestActivations checks the float32 activations and gradients against
// float64 formulas on random inputs in [−12, 12].
func TestActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range vecLengths {
		a, b, g := randomVec(rng, n, -12, 12), randomVec(rng, n, -2, 2), randomVec(rng, n, -2, 2)
		out := make([]float32, n)
		check := func(name string, i int, want, tol float64) {
			t.Helper()
			if math.Abs(float64(out[i])-want) > tol {
				t.Errorf("%s n=%d a=%v: %v, want %v (tolerance %g)", name, n, a[i], out[i], want, tol)
			}
		}
		Sigmoid(out, a)
		for i, x := range a {
			// σ = 1/(1 + e) with e within 1 ulp: a few ulp of σ.
			check("Sigmoid", i, sigmoidRef(float64(x)), 3*ulp32(out[i]))
		}
		SiLU(out, a)
		for i, x := range a {
			check("SiLU", i, float64(x)*sigmoidRef(float64(x)), 4*ulp32(out[i]))
		}
		SwiGLU(out, a, b)
		for i, x := range a {
			w := float64(x) * sigmoidRef(float64(x)) * float64(b[i])
			check("SwiGLU", i, w, 5*ulp32(out[i]))
		}
		SwiGLUGradUp(out, a, g)
		for i, x := range a {
			w := float64(g[i]) * float64(x) * sigmoidRef(float64(x))
			check("SwiGLUGradUp", i, w, 5*ulp32(out[i]))
		}
		SwiGLUGradGate(out, a, b, g)
		for i, x := range a {
			s := sigmoidRef(float64(x))
			gb := float64(g[i]) * float64(b[i])
			// 1 + a(1 − σ) cancels near a = −1.28: bound by the terms' size.
			check("SwiGLUGradGate", i, gb*s*(1+float64(x)*(1-s)), 1e-6*math.Abs(gb)*(1+math.Abs(float64(x))))
		}
	}
}

// TestGELU checks Φ against math.Erf (within 1e-6 absolute on erf, below
// float32's resolution near 1) and GELU and its gradient against float64 formulas.
func TestGELU(t *testing.T) {
	worst := 0.0
	for x := float32(-12); x <= 12; x += 1.0 / 1024 {
		cdf, _ := normal32(x)
		erf := 2*float64(cdf) - 1
		worst = max(worst, math.Abs(erf-math.Erf(float64(x)/math.Sqrt2)))
	}
	t.Logf("erf in float32: at most %.3g from math.Erf on [-12, 12]", worst)
	if worst > 1e-6 {
		t.Errorf("erf: %.3g from math.Erf, want at most 1e-6", worst)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range vecLengths {
		x, g := randomVec(rng, n, -8, 8), randomVec(rng, n, -2, 2)
		out := make([]float32, n)
		GELU(out, x)
		for i, v := range x {
			xf := float64(v)
			w := xf * 0.5 * (1 + math.Erf(xf/math.Sqrt2))
			// Φ within 5e-7, times |x|, plus the product's rounding.
			if math.Abs(float64(out[i])-w) > 5e-7*math.Abs(xf)+ulp32(out[i]) {
				t.Errorf("GELU(%v) = %v, want %v", v, out[i], w)
			}
		}
		GELUGrad(out, x, g)
		for i, v := range x {
			xf := float64(v)
			d := 0.5*(1+math.Erf(xf/math.Sqrt2)) + xf*math.Exp(-xf*xf/2)/math.Sqrt(2*math.Pi)
			w := float64(g[i]) * d
			if math.Abs(float64(out[i])-w) > 1e-6*math.Abs(float64(g[i]))*(1+math.Abs(xf)) {
				t.Errorf("GELUGrad(%v) = %v, want %v", v, out[i], w)
			}
		}
	}
}

func TestActivations64(t *testing.T) {
	x := []float64{-3, -0.5, 0, 0.5, 3}
	out := make([]float64, len(x))
	SwiGLU(out, x, x)
	for i, v := range x {
		if w := v * sigmoidRef(v) * v; out[i] != w {
			t.Errorf("SwiGLU float64 (%v) = %v, want %v", v, out[i], w)
		}
	}
	GELU(out, x)
	for i, v := range x {
		if w := v * 0.5 * (1 + math.Erf(v/math.Sqrt2)); out[i] != w {
			t.Errorf("GELU float64 (%v) = %v, want %v", v, out[i], w)
		}
	}
}
