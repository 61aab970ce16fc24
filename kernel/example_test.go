package kernel_test

import (
	"fmt"

	"github.com/velora-go/velora/kernel"
)

// A 2×3 matrix times a 3×2 matrix, then the same product with the second
// matrix stored transposed.
func ExampleGemm() {
	a := []float32{1, 2, 3, 4, 5, 6}  // 2×3
	b := []float32{1, 0, 0, 1, 1, 1}  // 3×2
	bT := []float32{1, 0, 1, 0, 1, 1} // bᵀ, 2×3
	c := make([]float32, 4)           // 2×2
	kernel.Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	kernel.Gemm(false, true, 2, 2, 3, 1, a, 3, bT, 3, 0, c, 2)
	fmt.Println(c)
	// Output:
	// [4 5 10 11]
	// [4 5 10 11]
}

// Softmax of a row, and its log-sum-exp.
func ExampleSoftmax() {
	x := []float32{0, 1, 2}
	p := make([]float32, 3)
	kernel.Softmax(p, x)
	fmt.Printf("%.4f %.4f\n", p, kernel.LogSumExp(x))
	// Output: [0.0900 0.2447 0.6652] 2.4076
}
