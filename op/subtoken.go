package op

import "github.com/velora-go/velora/kernel"

// The kernels below work on row-major (T, D) matrices x and (T, K) matrices
// z, K = ceil(D/M), with v of length M. A row's last sub-token may be short
// (D not divisible by M): it is treated as zero-padded, so only its first
// D - (K-1)·M entries take part.

// compressRows writes z[t,k] = <x[t, kM:(k+1)M], v>, rows split across
// goroutines. When M divides D the sub-tokens of a block of rows lie end
// to end and are one call of the kernel.
func compressRows[T float](z, x, v []T, d int) {
	m := len(v)
	k := groups(d, m)
	kernel.ParallelRows(len(x)/d, d, func(lo, hi int) {
		if d%m == 0 {
			kernel.Compress(z[lo*k:hi*k], x[lo*d:hi*d], v)
			return
		}
		for t := lo; t < hi; t++ {
			kernel.Compress(z[t*k:(t+1)*k], x[t*d:(t+1)*d], v)
		}
	})
}

// reconstructRows writes x̂[t, kM+m] = z[t,k]·v[m], cutting the padding,
// rows split across goroutines.
func reconstructRows[T float](xhat, z, v []T, d int) {
	m := len(v)
	k := groups(d, m)
	kernel.ParallelRows(len(z)/k, d, func(lo, hi int) {
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
