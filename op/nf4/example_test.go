package nf4_test

import (
	"fmt"
	"log"
	"math"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/op/nf4"
)

// A 64 × 64 weight in 4-bit NormalFloat: about an eighth of its float32
// bytes (4.14 bits a weight: the codes, one 8-bit absmax per 64 weights
// and its second-level scale). The largest error, 0.015, is 15% of the
// blocks' largest magnitude (0.1): half the widest gap between NF4's codes,
// 0.72 and 1.
func ExampleQuantize() {
	data := make([]float32, 64*64)
	for i := range data {
		data[i] = float32(math.Sin(float64(i))) / 10
	}
	w := tensor.New(tensor.WithShape(64, 64), tensor.WithBacking(data))
	q, err := nf4.Quantize(w)
	if err != nil {
		log.Fatal(err)
	}
	back := q.Dequantize().Data().([]float32)
	var worst float64
	for i, x := range data {
		worst = math.Max(worst, math.Abs(float64(back[i]-x)))
	}
	fmt.Println("shape:", q.Shape())
	fmt.Printf("bytes: %d of %d\n", q.Bytes(), 4*len(data))
	fmt.Printf("bits a weight: %.2f, largest error: %.4f\n", q.BitsPerParameter(), worst)
	// Output:
	// shape: (64, 64)
	// bytes: 2120 of 16384
	// bits a weight: 4.14, largest error: 0.0151
}
