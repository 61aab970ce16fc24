//go:build amd64 && !purego

package kernel

import (
	"runtime"
	"sync"
)

// microKernel adds (or, unless accumulate, stores) the product of a packed
// mr×k panel of A and a packed k×nr panel of B into the mr×nr tile of C at
// c, whose rows are ldc elements apart. It is written in assembly.
type microKernel[T Float] func(k int, a, b, c *T, ldc int, accumulate bool)

// rowsKernel is a microKernel that reads mr rows of A in place, lda
// elements apart, instead of a packed panel.
type rowsKernel[T Float] func(k int, a *T, lda int, b, c *T, ldc int, accumulate bool)

// packedGemm is a GEMM in the GotoBLAS/BLIS scheme: op(b) is cut into
// kc×nc blocks packed into nr-wide panels (kept in L3, each panel in L1),
// op(a) into mc×kc blocks packed into mr-tall panels (kept in L2), and the
// micro-kernel multiplies one panel of each into an mr×nr tile of c held
// in registers. Packing also applies the transposes and alpha, so one
// kernel serves every case. When op(a) is a itself and alpha is 1, a full
// panel of a is read in place (rowsKernel): packing it would cost a
// strided copy of all of a (10% of a training step) for a panel that is
// read from L1 either way.
type packedGemm[T Float] struct {
	kernel         microKernel[T]
	rowsKernel     rowsKernel[T]
	mr, nr         int // the micro-kernel's tile
	kc, mc, nc     int // cache blocks: depth, rows of a, columns of b
	minOpsPerShare int // multiply-adds below which a goroutine is not worth starting
}

// run implements gemmFunc.
func (g *packedGemm[T]) run(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if beta != 0 {
		scaleRows(m, n, beta, c, ldc) // later blocks of k add into c
	}
	j := gemmJob[T]{g: g, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, overwrite: beta == 0, inPlace: !transA && alpha == 1, c: c, ldc: ldc}
	j.workers = min(runtime.GOMAXPROCS(0), max(1, m*n*k/g.minOpsPerShare))
	// Workers take panels of b when there are enough: they then need no
	// barrier, and each packs only its own panels of op(b).
	j.splitRows = n < j.workers*4*g.nr
	j.bPack = getBuffer[T](g.kc * roundUp(min(n, g.nc), g.nr))
	defer putBuffer(j.bPack)
	if j.workers == 1 {
		j.work(0) // j stays on the stack: a small multiply allocates nothing
		return
	}
	j.parallel()
}

// parallel runs the job's workers, each on a goroutine of its own, on a
// copy of the job that they share.
func (j gemmJob[T]) parallel() {
	if j.splitRows {
		j.barrier = newBarrier(j.workers)
	}
	var wg sync.WaitGroup
	for w := range j.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.work(w)
		}()
	}
	wg.Wait()
}

// gemmJob is one call's arguments and the state its workers share.
type gemmJob[T Float] struct {
	g              *packedGemm[T]
	transA, transB bool
	m, n, k        int
	alpha          T
	a, b, c        []T
	lda, ldb, ldc  int
	overwrite      bool // beta = 0: the first block of k stores into c
	inPlace        bool // full panels of a are read where they are
	workers        int
	splitRows      bool // workers take rows of c; else panels of b
	bPack          []T  // the packed block of op(b), shared
	barrier        *barrier
}

// work is worker w's part: for each block of op(b) it packs its share of
// b's panels, waits for the others, then computes its share of c.
func (j *gemmJob[T]) work(w int) {
	g := j.g
	aPack := getBuffer[T](g.kc * roundUp(g.mc, g.mr))
	defer putBuffer(aPack)
	tile := getBuffer[T](g.mr * g.nr)
	defer putBuffer(tile)
	rowLo, rowHi := 0, j.m
	if j.splitRows {
		rowLo, rowHi = share(j.m, g.mr, w, j.workers)
	}
	// Worker w packs the same slots of bPack in every block of op(b), so
	// that, splitting by panels without a barrier, no worker repacks a slot
	// another still reads (a last, narrower block leaves some slots empty).
	slots := (min(j.n, g.nc) + g.nr - 1) / g.nr
	slotLo, slotHi := share(slots, 1, w, j.workers)
	for jc := 0; jc < j.n; jc += g.nc {
		nc := min(g.nc, j.n-jc)
		panels := (nc + g.nr - 1) / g.nr
		for pc := 0; pc < j.k; pc += g.kc {
			kc := min(g.kc, j.k-pc)
			packLo, packHi := min(slotLo, panels), min(slotHi, panels)
			j.packB(pc, kc, jc, nc, packLo, packHi)
			lo, hi := packLo, packHi // split by panels: each worker multiplies what it packed
			if j.splitRows {
				j.barrier.wait() // every panel is packed
				lo, hi = 0, panels
			}
			accumulate := pc > 0 || !j.overwrite
			for ic := rowLo; ic < rowHi; ic += g.mc {
				mc := min(g.mc, rowHi-ic)
				j.packA(aPack, ic, mc, pc, kc)
				j.multiply(aPack, tile, ic, mc, pc, kc, jc, nc, lo, hi, accumulate)
			}
			if j.splitRows {
				j.barrier.wait() // nobody still reads the panels the next block overwrites
			}
		}
	}
}

// packA copies rows [ic, ic+mc) and columns [pc, pc+kc) of alpha·op(a) into
// mr-tall panels: panel r holds, for each p, the mr values of column pc+p
// in rows ic+r·mr…, zero past the last row.
func (j *gemmJob[T]) packA(dst []T, ic, mc, pc, kc int) {
	mr := j.g.mr
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		if rows == mr && j.inPlace {
			continue
		}
		panel := dst[ir*kc : ir*kc+mr*kc]
		if rows < mr {
			clear(panel)
		}
		if j.transA { // op(a)[i, p] = a[p, i]: rows of a are contiguous in i
			for p := range kc {
				src := j.a[(pc+p)*j.lda+ic+ir:][:rows]
				d := panel[p*mr:][:rows]
				for r, v := range src {
					d[r] = j.alpha * v
				}
			}
			continue
		}
		for r := range rows {
			src := j.a[(ic+ir+r)*j.lda+pc:][:kc]
			for p, v := range src {
				panel[p*mr+r] = j.alpha * v
			}
		}
	}
}

// packB copies panels [lo, hi) of rows [pc, pc+kc) and columns
// [jc, jc+nc) of op(b) into nr-wide panels: panel q holds, for each p, the
// nr values of row pc+p in columns jc+q·nr…, zero past the last column.
func (j *gemmJob[T]) packB(pc, kc, jc, nc, lo, hi int) {
	nr := j.g.nr
	for q := lo; q < hi; q++ {
		j0 := q * nr
		cols := min(nr, nc-j0)
		panel := j.bPack[q*nr*j.g.kc:][:nr*kc] // a fixed stride: workers that split by panels never meet
		if cols < nr {
			clear(panel)
		}
		if j.transB { // op(b)[p, jj] = b[jj, p]: rows of b are contiguous in p
			for cc := range cols {
				src := j.b[(jc+j0+cc)*j.ldb+pc:][:kc]
				for p, v := range src {
					panel[p*nr+cc] = v
				}
			}
			continue
		}
		for p := range kc {
			copy(panel[p*nr:][:cols], j.b[(pc+p)*j.ldb+jc+j0:][:cols])
		}
	}
}

// multiply computes the tiles of c in rows [ic, ic+mc) and b's panels
// [lo, hi) of the column block at jc from the packed blocks. Tiles cut by
// the edge of c go through a scratch tile.
func (j *gemmJob[T]) multiply(aPack, tile []T, ic, mc, pc, kc, jc, nc, lo, hi int, accumulate bool) {
	g := j.g
	for q := lo; q < hi; q++ {
		j0 := q * g.nr
		cols := min(g.nr, nc-j0)
		bp := &j.bPack[q*g.nr*g.kc]
		for ir := 0; ir < mc; ir += g.mr {
			rows := min(g.mr, mc-ir)
			at := (ic+ir)*j.ldc + jc + j0
			if rows == g.mr && cols == g.nr {
				j.tile(aPack, ic, ir, rows, pc, kc, bp, &j.c[at], j.ldc, accumulate)
				continue
			}
			j.tile(aPack, ic, ir, rows, pc, kc, bp, &tile[0], g.nr, false)
			for r := range rows {
				dst := j.c[at+r*j.ldc:][:cols]
				src := tile[r*g.nr:][:cols]
				if accumulate {
					for i, v := range src {
						dst[i] += v
					}
				} else {
					copy(dst, src)
				}
			}
		}
	}
}

// tile runs the micro-kernel on the panel of a at row ir of the block at
// (ic, pc), holding rows rows, in place or packed, and the panel of b at bp.
func (j *gemmJob[T]) tile(aPack []T, ic, ir, rows, pc, kc int, bp, c *T, ldc int, accumulate bool) {
	if j.inPlace && rows == j.g.mr {
		j.g.rowsKernel(kc, &j.a[(ic+ir)*j.lda+pc], j.lda, bp, c, ldc, accumulate)
		return
	}
	j.g.kernel(kc, &aPack[ir*kc], bp, c, ldc, accumulate)
}

// share returns worker w's part [lo, hi) of n items cut into parts that are
// multiples of unit.
func share(n, unit, w, workers int) (lo, hi int) {
	units := (n + unit - 1) / unit
	per := (units + workers - 1) / workers
	return min(n, w*per*unit), min(n, (w+1)*per*unit)
}

func roundUp(n, unit int) int { return (n + unit - 1) / unit * unit }

// barrier makes a fixed number of goroutines wait for each other, again
// and again. A nil barrier (one worker) never waits.
type barrier struct {
	mu         sync.Mutex
	cond       *sync.Cond
	parties    int
	waiting    int
	generation int
}

func newBarrier(parties int) *barrier {
	b := &barrier{parties: parties}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *barrier) wait() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	gen := b.generation
	b.waiting++
	if b.waiting == b.parties {
		b.waiting = 0
		b.generation++
		b.cond.Broadcast()
		return
	}
	for gen == b.generation {
		b.cond.Wait()
	}
}
