package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func TestGemvAgainstGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, sz := range [][2]int{{0, 3}, {3, 0}, {1, 1}, {7, 9}, {17, 33}, {300, 260}} {
			for _, inc := range [][2]int{{1, 1}, {2, -3}} {
				for _, ab := range [][2]float32{{1, 0}, {-0.5, 1}, {2, 0.25}, {0, 2}} {
					m, n := sz[0], sz[1]
					lda := n + 3
					lenX, lenY := n, m
					if tA == blas.Trans {
						lenX, lenY = m, n
					}
					a := randomVec(rng, lda*max(m, 1), -1, 1)
					x := randomVec(rng, max(1, 1+(lenX-1)*abs(inc[0])), -1, 1)
					y := randomVec(rng, max(1, 1+(lenY-1)*abs(inc[1])), -1, 1)
					want := append([]float32(nil), y...)
					gonum.Implementation{}.Sgemv(tA, m, n, ab[0], a, lda, x, inc[0], ab[1], want, inc[1])
					BLAS{}.Sgemv(tA, m, n, ab[0], a, lda, x, inc[0], ab[1], y, inc[1])
					for i := range y {
						// float32 sums of up to 300 products in [−1, 1].
						if math.Abs(float64(y[i]-want[i])) > 1e-5 {
							t.Errorf("Sgemv %c %dx%d inc %v alpha, beta %v: y[%d] = %v, gonum %v", tA, m, n, inc, ab, i, y[i], want[i])
							break
						}
					}
					y64, want64, a64, x64 := to64(y), to64(y), to64(a), to64(x)
					gonum.Implementation{}.Dgemv(tA, m, n, float64(ab[0]), a64, lda, x64, inc[0], float64(ab[1]), want64, inc[1])
					BLAS{}.Dgemv(tA, m, n, float64(ab[0]), a64, lda, x64, inc[0], float64(ab[1]), y64, inc[1])
					for i := range y64 {
						if math.Abs(y64[i]-want64[i]) > 1e-12 {
							t.Errorf("Dgemv %c %dx%d: y[%d] = %v, gonum %v", tA, m, n, i, y64[i], want64[i])
							break
						}
					}
				}
			}
		}
	}
}

func abs(i int) int { return max(i, -i) }

// TestGemvPanics checks that bad arguments panic with gonum's messages.
func TestGemvPanics(t *testing.T) {
	a, x, y := make([]float32, 12), make([]float32, 4), make([]float32, 3)
	cases := []struct {
		tA         blas.Transpose
		m, n, lda  int
		a, x, y    []float32
		incX, incY int
	}{
		{'X', 3, 4, 4, a, x, y, 1, 1},
		{blas.NoTrans, -1, 4, 4, a, x, y, 1, 1},
		{blas.NoTrans, 3, -1, 4, a, x, y, 1, 1},
		{blas.NoTrans, 3, 4, 3, a, x, y, 1, 1},
		{blas.NoTrans, 3, 4, 4, a, x, y, 0, 1},
		{blas.NoTrans, 3, 4, 4, a, x[:3], y, 1, 1},
		{blas.NoTrans, 3, 4, 4, a, x, y[:2], 1, 1},
		{blas.NoTrans, 3, 4, 4, a[:11], x, y, 1, 1},
		{blas.Trans, 3, 4, 4, a, x, y, 1, 1},
	}
	for _, c := range cases {
		caught := func(f func()) (r any) {
			defer func() { r = recover() }()
			f()
			return nil
		}
		want := caught(func() {
			gonum.Implementation{}.Sgemv(c.tA, c.m, c.n, 1, c.a, c.lda, c.x, c.incX, 0, append([]float32(nil), c.y...), c.incY)
		})
		got := caught(func() { BLAS{}.Sgemv(c.tA, c.m, c.n, 1, c.a, c.lda, c.x, c.incX, 0, c.y, c.incY) })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Sgemv%v: panic %v, gonum's %v", c, got, want)
		}
	}
}

func BenchmarkSgemv(b *testing.B) {
	const m, n = 1024, 1024
	rng := rand.New(rand.NewPCG(1, 1))
	a, x, y := randomVec(rng, m*n, -1, 1), randomVec(rng, n, -1, 1), make([]float32, m)
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, impl := range []struct {
			name string
			blas.Float32Level2
		}{{"gonum", gonum.Implementation{}}, {"kernel", BLAS{}}} {
			b.Run(fmt.Sprintf("%c/%s", tA, impl.name), func(b *testing.B) {
				b.SetBytes(4 * m * n)
				for b.Loop() {
					impl.Sgemv(tA, m, n, 1, a, n, x, 1, 0, y, 1)
				}
				sinkF32 = y
			})
		}
	}
}
