package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vecLengths cover the assembly's registers of eight and the pure-Go tails.
var vecLengths = []int{0, 1, 7, 8, 9, 15, 16, 17, 33, 1000}

// randomVec returns n values uniform in [lo, hi), one element into a
// longer slice so that the data is not 32-byte aligned.
func randomVec(rng *rand.Rand, n int, lo, hi float32) []float32 {
	x := make([]float32, n+1)
	for i := range x {
		x[i] = lo + (hi-lo)*rng.Float32()
	}
	return x[1:]
}

// ulp32 is the spacing of float32 values at |w|.
func ulp32(w float32) float64 {
	w = float32(math.Abs(float64(w)))
	if w < math.SmallestNonzeroFloat32 {
		return math.SmallestNonzeroFloat32
	}
	return float64(math.Nextafter32(w, float32(math.Inf(1))) - w)
}

// ulps is the distance of got from the exact want in units of the last
// place of want rounded to float32.
func ulps(got float32, want float64) float64 {
	if float64(got) == want {
		return 0
	}
	return math.Abs(float64(got)-want) / ulp32(float32(want))
}

func TestDotAxpyScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range vecLengths {
		x, y := randomVec(rng, n, -1, 1), randomVec(rng, n, -1, 1)
		var want, mag float64
		for i := range x {
			want += float64(x[i]) * float64(y[i])
			mag += math.Abs(float64(x[i]) * float64(y[i]))
		}
		// float32 sums: a few roundings of 2⁻²⁴ per term of the magnitude.
		if got := Dot(x, y); math.Abs(float64(got)-want) > 1e-6*mag {
			t.Errorf("Dot n=%d: %v, want %v", n, got, want)
		}
		y0 := append([]float32(nil), y...)
		Axpy(0.5, x, y)
		for i := range y {
			if w := float64(y0[i]) + 0.5*float64(x[i]); ulps(y[i], w) > 1 {
				t.Errorf("Axpy n=%d [%d]: %v, want %v", n, i, y[i], w)
			}
		}
		Scale(-3, y0)
		for i := range y0 {
			if w := float32(-3 * float64(y[i]-0.5*x[i])); math.Abs(float64(y0[i]-w)) > 2e-6 {
				t.Errorf("Scale n=%d [%d]: %v, want %v", n, i, y0[i], w)
				break
			}
		}
	}
}

func TestDot64(t *testing.T) {
	x, y := []float64{1, 2, 3, 4, 5}, []float64{5, 4, 3, 2, 1}
	if got := Dot(x, y); got != 35 {
		t.Errorf("Dot = %v, want 35", got)
	}
	Axpy(2, x, y)
	Scale(0.5, y)
	if want := []float64{3.5, 4, 4.5, 5, 5.5}; !equalSlices(y, want) {
		t.Errorf("Axpy, Scale = %v, want %v", y, want)
	}
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCompress(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, m := range []int{1, 3, 4, 8, 12, 16, 24, 32, 40} {
		v := randomVec(rng, m, -1, 1)
		for _, d := range []int{0, 1, 7, 8, 9, 17, 33, 64, 129, 1000} {
			x := randomVec(rng, d, -1, 1)
			x0 := append([]float32(nil), x...)
			z := make([]float32, (d+m-1)/m)
			Compress(z, x, v)
			for s := range z {
				var want, mag float64
				for i := 0; i < m && s*m+i < d; i++ {
					p := float64(x[s*m+i]) * float64(v[i])
					want, mag = want+p, mag+math.Abs(p)
				}
				if math.Abs(float64(z[s])-want) > 1e-6*mag {
					t.Errorf("M=%d D=%d z[%d] = %v, want %v", m, d, s, z[s], want)
				}
			}
			if !equalSlices(x, x0) {
				t.Errorf("M=%d D=%d: x modified", m, d)
			}
		}
	}
}

func TestCompressPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Compress with a short z did not panic")
		}
	}()
	Compress(make([]float32, 1), make([]float32, 9), make([]float32, 8))
}
