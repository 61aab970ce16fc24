package op

import (
	"github.com/velora-go/velora/kernel"
	"github.com/velora-go/velora/op/internal/opkit"
)

// The kernels below work on row-major (T, D) matrices x and (T, K) matrices
// z, K = ceil(D/M), with v of length M. A row's last sub-token may be short
// (D not divisible by M): it is treated as zero-padded, so only its first
// D - (K-1)·M entries take part.

// compressRows writes z[t,k] = <x[t, kM:(k+1)M], v>, rows split across
// goroutines. When M divides D the sub-tokens of a block of rows lie end
// to end and are one call of the kernel. A 16-bit z is computed a chunk of
// rows at a time in T and narrowed.
func compressRows[T opkit.Float](z zValues[T], x, v []T, d int) {
	m := len(v)
	k := opkit.Groups(d, m)
	kernel.ParallelRows(len(x)/d, d, func(lo, hi int) {
		step := z.chunk(hi - lo)
		buf := z.buffer(step, k)
		for c := lo; c < hi; c += step {
			e := min(c+step, hi)
			out := z.target(c, e, k, buf)
			if d%m == 0 {
				kernel.Compress(out, x[c*d:e*d], v)
			} else {
				for t := c; t < e; t++ {
					kernel.Compress(out[(t-c)*k:(t-c+1)*k], x[t*d:(t+1)*d], v)
				}
			}
			z.store(c, k, out)
		}
		z.release(buf)
	})
}

// reconstructRows writes x̂[t, kM+m] = z[t,k]·v[m], cutting the padding,
// rows split across goroutines.
func reconstructRows[T opkit.Float](xhat []T, z zValues[T], v []T, d int) {
	m := len(v)
	k := opkit.Groups(d, m)
	kernel.ParallelRows(z.rowCount(k), d, func(lo, hi int) {
		buf := z.buffer(1, k)
		for t := lo; t < hi; t++ {
			row, zrow := xhat[t*d:(t+1)*d], z.rows(t, t+1, k, buf)
			for g, zg := range zrow {
				sub := row[g*m : min((g+1)*m, d)]
				for i := range sub {
					sub[i] = zg * v[i]
				}
			}
		}
		z.release(buf)
	})
}

// weightGradRows writes the VeLoRA weight gradient
// gw[kM+m, j] = scale · v[m] · (zᵀ g)[k, j] for z (T, K), g (T, Dout) and
// gw (D, Dout), without building x̂. The product zᵀ g is written straight
// into the first row of each block of M rows of gw (leading dimension
// M·Dout), then spread over the block's other rows. A 16-bit z is widened
// a chunk of rows at a time, each chunk's product added to the last.
func weightGradRows[T opkit.Float](gw []T, z zValues[T], g, v []T, d, dout int, scale T) {
	m := len(v)
	k := opkit.Groups(d, m)
	t := z.rowCount(k)
	step := z.chunk(t)
	buf := z.buffer(step, k)
	for lo := 0; lo == 0 || lo < t; lo += step {
		hi := min(lo+step, t)
		beta := T(1)
		if lo == 0 {
			beta = 0
		}
		kernel.Gemm(true, false, k, dout, hi-lo, scale, z.rows(lo, hi, k, buf), k, g[lo*dout:hi*dout], dout, beta, gw, m*dout)
	}
	z.release(buf)
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
