package op

import "github.com/velora-go/velora/kernel"

// The kernels below work on row-major (T, D) matrices x and (T, K) matrices
// z, K = ceil(D/M), with v of length M. A row's last sub-token may be short
// (D not divisible by M): it is treated as zero-padded, so only its first
// D - (K-1)·M entries take part.

// compressRows writes z[t,k] = <x[t, kM:(k+1)M], v>, rows split across
// goroutines. When M divides D the sub-tokens of a block of rows lie end
// to end and are read in one pass.
func compressRows[T float](z, x, v []T, d int) {
	m := len(v)
	k := groups(d, m)
	parallelRows(len(x)/d, d, func(lo, hi int) {
		if d%m == 0 {
			compressFlat(z[lo*k:hi*k], x[lo*d:hi*d], v)
			return
		}
		for t := lo; t < hi; t++ {
			row, zrow := x[t*d:(t+1)*d], z[t*k:(t+1)*k]
			for g := range zrow {
				zrow[g] = dot(row[g*m:min((g+1)*m, d)], v)
			}
		}
	})
}

// compressFlat writes z[s] = <x[sM:(s+1)M], v> for sub-tokens laid end to
// end, two sub-tokens at a time with two partial sums each, so the loads
// and adds of neighbouring iterations overlap.
func compressFlat[T float](z, x, v []T) {
	m := len(v)
	s := 0
	for ; s+1 < len(z); s += 2 {
		a, b := x[s*m:(s+1)*m], x[(s+1)*m:(s+2)*m]
		var a0, a1, b0, b1 T
		i := 0
		for ; i+1 < m; i += 2 {
			a0 += a[i] * v[i]
			a1 += a[i+1] * v[i+1]
			b0 += b[i] * v[i]
			b1 += b[i+1] * v[i+1]
		}
		if i < m {
			a0 += a[i] * v[i]
			b0 += b[i] * v[i]
		}
		z[s], z[s+1] = a0+a1, b0+b1
	}
	if s < len(z) {
		z[s] = dot(x[s*m:(s+1)*m], v)
	}
}

// dot is Σ a[i]·b[i] over a's length (b at least as long), four partial
// sums at a time so the adds do not wait on each other.
func dot[T float](a, b []T) T {
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// reconstructRows writes x̂[t, kM+m] = z[t,k]·v[m], cutting the padding,
// rows split across goroutines.
func reconstructRows[T float](xhat, z, v []T, d int) {
	m := len(v)
	k := groups(d, m)
	parallelRows(len(z)/k, d, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			row, zrow := xhat[t*d:(t+1)*d], z[t*k:(t+1)*k]
			for g, zg := range zrow {
				sub := row[g*m : min((g+1)*m, d)]
				for i := range sub {
					sub[i] = zg * v[i]
				}
			}
		}
	})
}

// weightGradRows writes the VeLoRA weight gradient
// gw[kM+m, j] = scale · v[m] · (zᵀ g)[k, j] for z (T, K), g (T, Dout) and
// gw (D, Dout), without building x̂. The product zᵀ g is written straight
// into the first row of each block of M rows of gw (leading dimension
// M·Dout), then spread over the block's other rows.
func weightGradRows[T float](gw, z, g, v []T, d, dout int, scale T) {
	m := len(v)
	k := groups(d, m)
	t := len(z) / k
	kernel.Gemm(true, false, k, dout, t, scale, z, k, g, dout, 0, gw, m*dout)
	for blk := 0; blk < k; blk++ {
		p := gw[blk*m*dout : (blk*m+1)*dout]
		for i := 1; i < m && blk*m+i < d; i++ {
			dst := gw[(blk*m+i)*dout : (blk*m+i+1)*dout]
			for j, pj := range p {
				dst[j] = v[i] * pj
			}
		}
		for j := range p {
			p[j] *= v[0]
		}
	}
}
