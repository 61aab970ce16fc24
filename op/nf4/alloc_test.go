package nf4

import (
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

func TestNF4ProductReusesItsTile(t *testing.T) {
	const rows, cols = 256, 512
	q, err := Quantize(testutil.RandomDense(rand.New(rand.NewSource(2)), tensor.Float32, rows, cols))
	if err != nil {
		t.Fatal(err)
	}
	// With no rows of input the multiplications do nothing: what a call allocates is
	// nf4Product's own, its tile of dequantised weights and the blocks' absmax.
	c := make([]float32, max(rows, cols))
	for _, transB := range []bool{false, true} {
		got := testutil.BytesPerCall(func() { nf4Product(q, transB, nil, c, 0) })
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
