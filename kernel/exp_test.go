package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpULP sweeps every 127th float32 of Exp's computed range, and random
// inputs, against math.Exp: at most 2 ulp of the exact value.
func TestExpULP(t *testing.T) {
	var xs []float32
	for b := math.Float32bits(expLo); b > 0x80000000; b -= 127 { // negatives, towards −0
		xs = append(xs, math.Float32frombits(b))
	}
	for b := uint32(0); b <= math.Float32bits(expHi); b += 127 {
		xs = append(xs, math.Float32frombits(b))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1 << 16 {
		xs = append(xs, expLo+(expHi-expLo)*rng.Float32())
	}
	xs = append(xs, expLo, expHi, -1e-30, 1e-30)
	got := make([]float32, len(xs))
	Exp(got, xs)
	worst, at := 0.0, float32(0)
	for i, x := range xs {
		if u := ulps(got[i], math.Exp(float64(x))); u > worst {
			worst, at = u, x
		}
	}
	t.Logf("Exp: %d inputs, at most %.3f ulp (at x = %v)", len(xs), worst, at)
	if worst > 2 {
		t.Errorf("Exp: %.3f ulp at x = %v, want at most 2", worst, at)
	}
}

func TestExpSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	xs := []float32{float32(math.NaN()), -inf, -1000, math.Nextafter32(expLo, -inf), inf, 1000, math.Nextafter32(expHi, inf), 0}
	want := []float32{float32(math.NaN()), 0, 0, 0, inf, inf, inf, 1}
	for _, n := range []int{len(xs), 8 * len(xs)} { // the pure-Go tail, and whole registers
		in := make([]float32, n)
		for i := range in {
			in[i] = xs[i%len(xs)]
		}
		got := make([]float32, n)
		Exp(got, in)
		for i, g := range got {
			w := want[i%len(xs)]
			if !(g == w || g != g && w != w) {
				t.Errorf("Exp(%v) = %v, want %v", in[i], g, w)
			}
		}
	}
}

func TestExpShift64(t *testing.T) {
	x := []float64{-1, 0, 2.5}
	got := make([]float64, 3)
	ExpShift(got, x, 0.5, 3)
	for i, v := range x {
		if w := math.Exp(v-0.5) * 3; got[i] != w {
			t.Errorf("ExpShift(%v) = %v, want %v", v, got[i], w)
		}
	}
}

func TestLogSumExpSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range vecLengths[1:] {
		x := randomVec(rng, n, -30, 30)
		m := math.Inf(-1)
		for _, v := range x {
			m = max(m, float64(v))
		}
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v) - m)
		}
		want := m + math.Log(s)
		// The float32 terms and sum, relative to the sum (≥ 1).
		if got := LogSumExp(x); math.Abs(float64(got)-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("LogSumExp n=%d = %v, want %v", n, got, want)
		}
		p := make([]float32, n)
		Softmax(p, x)
		for i, v := range x {
			w := math.Exp(float64(v) - want)
			// exp(x − lse) with x − lse rounded: |x − lse| ≤ 60 costs 60·2⁻²⁴.
			if math.Abs(float64(p[i])-w) > 8e-6*w+1e-30 {
				t.Errorf("Softmax n=%d [%d] = %v, want %v", n, i, p[i], w)
				break
			}
		}
	}
	if got := LogSumExp([]float32{}); !math.IsInf(float64(got), -1) {
		t.Errorf("LogSumExp(empty) = %v, want -Inf", got)
	}
	if got, want := LogSumExp([]float64{1, 2, 3}), math.Log(math.E+math.E*math.E+math.E*math.E*math.E); math.Abs(got-want) > 1e-15 {
		t.Errorf("LogSumExp float64 = %v, want %v", got, want)
	}
}
