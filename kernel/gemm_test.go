package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// gemmCase is one GEMM call's shape and scalars.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	pad            int // extra elements per row of a, b and c
	alpha, beta    float64
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%t,tB=%t,m=%d,n=%d,k=%d,pad=%d,alpha=%g,beta=%g", tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.pad, tc.alpha, tc.beta)
}

// operands returns random a, b, c for the case, stored with the case's
// leading dimensions, and those dimensions.
func (tc gemmCase) operands(rng *rand.Rand) (a, b, c []float64, lda, ldb, ldc int) {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc = max(1, ac)+tc.pad, max(1, bc)+tc.pad, max(1, tc.n)+tc.pad
	fill := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = rng.NormFloat64()
		}
		return s
	}
	return fill(ar * lda), fill(br * ldb), fill(tc.m * ldc), lda, ldb, ldc
}

// reference is the definition of GEMM in float64, summed in order, and the
// magnitude of its terms, |alpha|·Σ|a·b| + |beta·c|, that rounding errors
// scale with (a sum that cancels has a large error relative to itself).
func (tc gemmCase) reference(a []float64, lda int, b []float64, ldb int, c []float64, ldc int) (out, size []float64) {
	out = append([]float64(nil), c...)
	size = make([]float64, len(c))
	for i := range tc.m {
		for j := range tc.n {
			var s float64
			for p := range tc.k {
				ai, bi := i*lda+p, p*ldb+j
				if tc.transA {
					ai = p*lda + i
				}
				if tc.transB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += av * bv
				size[i*ldc+j] += math.Abs(tc.alpha * av * bv)
			}
			size[i*ldc+j] += math.Abs(tc.beta * c[i*ldc+j])
			out[i*ldc+j] = tc.alpha*s + tc.beta*c[i*ldc+j]
			if tc.beta == 0 {
				out[i*ldc+j] = tc.alpha * s
			}
		}
	}
	return out, size
}

// gemmCases covers every transpose pair on 1×1, k = 1, odd sizes, sizes
// off the block multiples (mr = 6, nr = 16/8, kc = 256, mc = 96) and padded
// leading dimensions, with alpha and beta including 0.
func gemmCases() []gemmCase {
	sizes := [][3]int{{1, 1, 1}, {1, 17, 1}, {7, 1, 3}, {6, 16, 1}, {5, 15, 300}, {13, 33, 7},
		{97, 129, 257}, {200, 40, 520}, {300, 260, 600}, {12, 700, 64}, {0, 3, 4}, {3, 4, 0}}
	scalars := [][2]float64{{1, 0}, {0.5, 1}, {-1.5, 0.25}, {0, 2}, {2, 0}}
	var cases []gemmCase
	for i, s := range sizes {
		for t := range 4 {
			sc := scalars[(i+t)%len(scalars)]
			cases = append(cases, gemmCase{transA: t&1 == 1, transB: t&2 == 2, m: s[0], n: s[1], k: s[2],
				pad: (i + t) % 3, alpha: sc[0], beta: sc[1]})
		}
	}
	return cases
}

// frobeniusError is ‖got − want‖ / ‖size‖ over the first n columns of m
// rows, and whether the columns past n are as before.
func frobeniusError(got, want, size, before []float64, m, n, ldc int) (rel float64, untouched bool) {
	var num, den float64
	untouched = true
	for i := range got {
		row, col := i/ldc, i%ldc
		if row >= m || col >= n {
			untouched = untouched && got[i] == before[i]
			continue
		}
		d := got[i] - want[i]
		num += d * d
		den += size[i] * size[i]
	}
	if den == 0 {
		return math.Sqrt(num), untouched
	}
	return math.Sqrt(num / den), untouched
}

// TestGemmFloat64 runs every case on one to three goroutines, so that both
// ways of sharing the work (rows of c, panels of b) meet blocks of k.
func TestGemmFloat64(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(1, 2))
	for i, tc := range gemmCases() {
		runtime.GOMAXPROCS(1 + i%3)
		a, b, c, lda, ldb, ldc := tc.operands(rng)
		want, size := tc.reference(a, lda, b, ldb, c, ldc)
		got := append([]float64(nil), c...)
		Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc)
		rel, untouched := frobeniusError(got, want, size, c, tc.m, tc.n, ldc)
		if rel > 1e-13 || !untouched {
			t.Errorf("%v: relative error %.3g (want ≤ 1e-13), columns past n untouched: %t", tc, rel, untouched)
		}
	}
}

func TestGemmFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range gemmCases() {
		a, b, c, lda, ldb, ldc := tc.operands(rng)
		a32, b32, c32 := to32(a), to32(b), to32(c)
		a, b, c = to64(a32), to64(b32), to64(c32) // the reference sees the same inputs
		want, size := tc.reference(a, lda, b, ldb, c, ldc)
		got := append([]float32(nil), c32...)
		Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), got, ldc)
		gonum := append([]float32(nil), c32...)
		gonumGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), gonum, ldc)
		rel, untouched := frobeniusError(to64(got), want, size, c, tc.m, tc.n, ldc)
		relGonum, _ := frobeniusError(to64(gonum), want, size, c, tc.m, tc.n, ldc)
		// Both round the inputs and every partial sum to float32; the
		// error of such a sum grows like √k·2⁻²⁴ on random data. Allow
		// four times gonum's own error and a floor of a few ulps.
		if rel > max(4*relGonum, 1e-6) || !untouched {
			t.Errorf("%v: relative error %.3g, gonum's %.3g; columns past n untouched: %t", tc, rel, relGonum, untouched)
		}
	}
}

// TestGemmWideBlocks runs products wider than a block of op(b) (nc = 2048
// float32 and 1024 float64 columns) on two to four goroutines, where
// workers that split by panels meet a narrower last block: each must
// repack only the panels it owns.
func TestGemmWideBlocks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(9, 10))
	for _, procs := range []int{2, 3, 4} {
		runtime.GOMAXPROCS(procs)
		for _, tc := range []gemmCase{
			{m: 96, n: 2304, k: 64, alpha: 1},
			{transB: true, m: 30, n: 2100, k: 300, alpha: 0.5, beta: 1},
			{transA: true, m: 24, n: 4200, k: 20, alpha: 1, pad: 1},
		} {
			for range 5 { // the race this guards against showed in a few runs of a hundred
				a, b, c, lda, ldb, ldc := tc.operands(rng)
				want, size := tc.reference(a, lda, b, ldb, c, ldc)
				got := append([]float64(nil), c...)
				Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc)
				if rel, _ := frobeniusError(got, want, size, c, tc.m, tc.n, ldc); rel > 1e-13 {
					t.Fatalf("GOMAXPROCS %d, %v: float64 relative error %.3g", procs, tc, rel)
				}
				a32, b32, c32 := to32(a), to32(b), to32(c)
				got32 := append([]float32(nil), c32...)
				Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, float32(tc.alpha), a32, lda, b32, ldb, float32(tc.beta), got32, ldc)
				if rel, _ := frobeniusError(to64(got32), want, size, to64(c32), tc.m, tc.n, ldc); rel > 1e-6 {
					t.Fatalf("GOMAXPROCS %d, %v: float32 relative error %.3g", procs, tc, rel)
				}
			}
		}
	}
}

// TestGemmBetaZeroIgnoresNaN checks that c is not read when beta is 0.
func TestGemmBetaZeroIgnoresNaN(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 0, 1, 1, 1}
	c := []float32{float32(math.NaN()), float32(math.NaN()), float32(math.NaN()), float32(math.NaN())}
	Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	want := []float32{4, 5, 10, 11}
	for i := range c {
		if c[i] != want[i] {
			t.Fatalf("c = %v, want %v", c, want)
		}
	}
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func()
	}{
		{"short a", func() {
			Gemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}},
		{"short b", func() {
			Gemm(false, true, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 3), 2, 0, make([]float32, 4), 2)
		}},
		{"short c", func() {
			Gemm(false, false, 2, 2, 2, 1, make([]float64, 4), 2, make([]float64, 4), 2, 0, make([]float64, 3), 2)
		}},
		{"small lda", func() {
			Gemm(false, false, 2, 2, 2, 1, make([]float32, 4), 1, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}},
		{"negative m", func() {
			Gemm(false, false, -1, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.call()
		}()
	}
}

func to32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}

func to64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// FuzzGemm compares Gemm with the float64 definition on shapes, transposes,
// paddings and scalars chosen by the fuzzer.
func FuzzGemm(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint16(1), uint8(0), uint8(0), int8(2), int8(0))
	f.Add(uint8(7), uint8(17), uint16(300), uint8(3), uint8(1), int8(-3), int8(1))
	f.Add(uint8(97), uint8(129), uint16(257), uint8(1), uint8(2), int8(1), int8(4))
	f.Fuzz(func(t *testing.T, m, n uint8, k uint16, flags, pad uint8, alpha, beta int8) {
		tc := gemmCase{transA: flags&1 == 1, transB: flags&2 == 2, m: int(m), n: int(n), k: int(k % 700),
			pad: int(pad % 4), alpha: float64(alpha) / 4, beta: float64(beta) / 4}
		rng := rand.New(rand.NewPCG(uint64(m), uint64(k)))
		a, b, c, lda, ldb, ldc := tc.operands(rng)
		want, size := tc.reference(a, lda, b, ldb, c, ldc)
		got := append([]float64(nil), c...)
		Gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc)
		if rel, untouched := frobeniusError(got, want, size, c, tc.m, tc.n, ldc); rel > 1e-13 || !untouched {
			t.Errorf("%v: relative error %.3g, columns past n untouched: %t", tc, rel, untouched)
		}
	})
}
