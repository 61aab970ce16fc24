package nn

import (
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/op/internal/opkit"
)

// The kernels below used to allocate their work buffers on every call, a step's garbage
// the collector had to reach before the process's memory came back down; once warm they
// take them from opkit.GetScratch or a table made once.

func TestRoPEAllocatesNoTables(t *testing.T) {
	const rows, seq, d, heads = 512, 256, 64, 2
	x := testutil.RandomDense(rand.New(rand.NewSource(1)), tensor.Float32, rows, d)
	out := opkit.Zeros(tensor.Float32, rows, d)
	for _, inverse := range []bool{false, true} {
		o := &ropeOp{heads: heads, seqLen: seq, base: 10000, inverse: inverse}
		got := testutil.BytesPerCall(func() {
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
		got := testutil.BytesPerCall(func() {
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
