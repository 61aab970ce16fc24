package op

import (
	"math/rand"
	"runtime"
	"runtime/debug"
	"testing"

	"gorgonia.org/tensor"
)

// bytesPerCall is what f allocates on the Go heap per call, once warm, with the
// collector off so that nothing is reclaimed and refilled in between.
func bytesPerCall(f func()) int64 {
	const calls = 20
	for range 3 {
		f()
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range calls {
		f()
	}
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc-before.TotalAlloc) / calls
}

// The kernels below used to allocate their work buffers on every call, a step's garbage
// the collector had to reach before the process's memory came back down; once warm they
// take them from getScratch or a table made once.

func TestRoPEAllocatesNoTables(t *testing.T) {
	const rows, seq, d, heads = 512, 256, 64, 2
	x := randomDense(rand.New(rand.NewSource(1)), tensor.Float32, rows, d)
	out := zeros(tensor.Float32, rows, d)
	for _, inverse := range []bool{false, true} {
		o := &ropeOp{heads: heads, seqLen: seq, base: 10000, inverse: inverse}
		got := bytesPerCall(func() {
			if _, err := o.UsePreallocDo(out, x); err != nil {
				t.Fatal(err)
			}
		})
		table := int64(8 * seq * d / heads / 2) // the cosines of every (position, pair)
		t.Logf("%v: %d bytes a call", o, got)
		if got >= table/4 {
			t.Errorf("%v allocates %d bytes a call; its cosine table alone is %d bytes", o, got, table)
		}
	}
}

func TestAttentionBlocksReuseScratch(t *testing.T) {
	a := attentionShape{b: 2, t: 256, d: 64, heads: 2, dh: 32, causal: true}
	block := int64(4 * a.blockRows() * a.t) // one block of float32 scores
	for _, buffers := range []int{1, 2} {
		got := bytesPerCall(func() {
			forBlocks(a, buffers, func(blk attentionBlock, scratch [][]float32) {
				scratch[buffers-1][blk.rows*blk.n-1] = 1
			})
		})
		t.Logf("forBlocks with %d buffers: %d bytes a call", buffers, got)
		if got >= block/2 {
			t.Errorf("forBlocks with %d buffers allocates %d bytes a call; a block of scores is %d bytes", buffers, got, block)
		}
	}
}

func TestNF4ProductReusesItsTile(t *testing.T) {
	const rows, cols = 256, 512
	q, err := QuantizeNF4(randomDense(rand.New(rand.NewSource(2)), tensor.Float32, rows, cols))
	if err != nil {
		t.Fatal(err)
	}
	// With no rows of input the multiplications do nothing: what a call allocates is
	// nf4Product's own, its tile of dequantised weights and the blocks' absmax.
	c := make([]float32, max(rows, cols))
	for _, transB := range []bool{false, true} {
		got := bytesPerCall(func() { nf4Product(q, transB, nil, c, 0) })
		in := rows
		if transB {
			in = cols
		}
		tile := int64(4 * in * max(1, min(rows*cols/in, nf4TileElems/in)))
		t.Logf("nf4Product (transB %v): %d bytes a call", transB, got)
		if got >= tile/4 {
			t.Errorf("nf4Product (transB %v) allocates %d bytes a call; its tile is %d bytes", transB, got, tile)
		}
	}
}
