package nn_test

import (
	"fmt"
	"log"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/op/nn"
)

// An RMSNorm followed by SwiGLU, differentiated: each op keeps for its
// backward pass only its inputs (and the norm its per-row statistics).
func ExampleRMSNorm() {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 4), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(2, 4), tensor.WithBacking([]float64{1, 2, 3, 4, -1, 0, 1, 2}))))
	weight := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(4), gorgonia.WithName("weight"),
		gorgonia.WithValue(tensor.New(tensor.WithBacking([]float64{1, 1, 1, 1}))))

	h, err := nn.RMSNorm(x, weight, 1e-6)
	if err != nil {
		log.Fatal(err)
	}
	out, err := nn.SwiGLU(h, h) // silu(h) ⊙ h
	if err != nil {
		log.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(out))
	if _, err := gorgonia.Grad(cost, x, weight); err != nil {
		log.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("normalised row 0: %.3f\n", h.Value().Data().([]float64)[:4])
	fmt.Printf("cost: %.4f\n", cost.Value().Data())
	// Output:
	// normalised row 0: [0.365 0.730 1.095 1.461]
	// cost: 5.9669
}
