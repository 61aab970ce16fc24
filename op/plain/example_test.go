package plain_test

import (
	"fmt"
	"log"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/op/nn"
	"github.com/velora-go/velora/op/plain"
)

// The plain composition and the fused op compute the same RMSNorm; the plain
// one keeps every temporary of its element-wise ops for the backward pass.
func ExampleRMSNorm() {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 2, -3, 0, 4}))))
	weight := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(3), gorgonia.WithName("weight"),
		gorgonia.WithValue(tensor.New(tensor.WithBacking([]float64{1, 2, 3}))))
	composed, err := plain.RMSNorm(x, weight, 0)
	if err != nil {
		log.Fatal(err)
	}
	fused, err := nn.RMSNorm(x, weight, 0)
	if err != nil {
		log.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("plain: %.3f\n", composed.Value().Data())
	fmt.Printf("fused: %.3f\n", fused.Value().Data())
	// Output:
	// plain: [0.577 2.309 3.464 -1.039 0.000 4.157]
	// fused: [0.577 2.309 3.464 -1.039 0.000 4.157]
}
