//go:build !purego

package kernel

import "golang.org/x/sys/cpu"

// init installs the AVX2 + FMA vector kernels when the CPU has them (read
// at start-up, not fixed at build time). The assembly handles whole
// registers of eight float32s; the pure-Go kernels do the rest of a slice.
func init() {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return
	}
	dot32 = func(x, y []float32) float32 {
		n := len(x) &^ 7
		var s float32
		if n > 0 {
			s = dotAVX2(&x[0], &y[0], n)
		}
		return s + dotGo(x[n:], y[n:])
	}
	axpy32 = func(alpha float32, x, y []float32) {
		n := len(x) &^ 7
		if n > 0 {
			axpyAVX2(alpha, &x[0], &y[0], n)
		}
		axpyGo(alpha, x[n:], y[n:])
	}
	scale32 = func(alpha float32, x []float32) {
		n := len(x) &^ 7
		if n > 0 {
			scaleAVX2(alpha, &x[0], n)
		}
		scaleGo(alpha, x[n:])
	}
	expShift32 = func(dst, x []float32, shift, scale float32) {
		n := len(x) &^ 7
		if n > 0 {
			expShiftAVX2(&dst[0], &x[0], n, shift, scale)
		}
		expShiftGo(dst[n:], x[n:], shift, scale)
	}
	max32 = func(x []float32) float32 {
		n := len(x) &^ 7
		if n == 0 {
			return maxGo(x)
		}
		m := maxAVX2(&x[0], n)
		if n < len(x) {
			m = max(m, maxGo(x[n:]))
		}
		return m
	}
	expSum32 = func(x []float32, shift float32) float32 {
		n := len(x) &^ 7
		var s float32
		if n > 0 {
			s = expSumAVX2(&x[0], n, shift)
		}
		return s + expSumGo(x[n:], shift)
	}
	compress32 = compressAVX2
	sigmoid32 = unaryAVX2(sigmoidAVX2, sigmoidGo)
	silu32 = unaryAVX2(siluAVX2, siluGo)
	gelu32 = unaryAVX2(geluAVX2, geluGo)
	swiglu32 = binaryAVX2(swigluAVX2, swigluGo)
	swigluGradUp32 = binaryAVX2(swigluGradUpAVX2, swigluGradUpGo)
	geluGrad32 = binaryAVX2(geluGradAVX2, geluGradGo)
	swigluGradGate32 = func(out, a, b, g []float32) {
		n := len(a) &^ 7
		if n > 0 {
			swigluGradGateAVX2(&out[0], &a[0], &b[0], &g[0], n)
		}
		swigluGradGateGo(out[n:], a[n:], b[n:], g[n:])
	}
}

// unaryAVX2 runs kernel on the whole registers of x and tail on the rest.
func unaryAVX2(kernel func(dst, x *float32, n int), tail func(dst, x []float32)) func(dst, x []float32) {
	return func(dst, x []float32) {
		n := len(x) &^ 7
		if n > 0 {
			kernel(&dst[0], &x[0], n)
		}
		tail(dst[n:], x[n:])
	}
}

// binaryAVX2 runs kernel on the whole registers of a and b and tail on the
// rest.
func binaryAVX2(kernel func(dst, a, b *float32, n int), tail func(dst, a, b []float32)) func(dst, a, b []float32) {
	return func(dst, a, b []float32) {
		n := len(a) &^ 7
		if n > 0 {
			kernel(&dst[0], &a[0], &b[0], n)
		}
		tail(dst[n:], a[n:], b[n:])
	}
}

// compressAVX2 is compressGo with the assembly: eight sub-tokens at a time
// for M = 8, 16 and 32, one dot product at a time for other M from 16, the
// pure-Go loop below.
func compressAVX2(z, x, v []float32) {
	m := len(v)
	var block func(z, x, v *float32, blocks int)
	switch m {
	case 8:
		block = compressM8AVX2
	case 16:
		block = compressM16AVX2
	case 32:
		block = compressM32AVX2
	default:
		if m < 16 {
			compressGo(z, x, v)
			return
		}
		for s := range z {
			z[s] = dot32(x[s*m:(s+1)*m], v)
		}
		return
	}
	blocks := len(z) / 8
	if blocks > 0 {
		block(&z[0], &x[0], &v[0], blocks)
	}
	for s := 8 * blocks; s < len(z); s++ {
		z[s] = dot32(x[s*m:(s+1)*m], v)
	}
}
