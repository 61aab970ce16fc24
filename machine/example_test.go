package machine_test

import (
	"fmt"
	"log"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/machine"
)

// A training loop: gorgonia.Grad builds the backward pass, a Machine runs the cost and the
// gradient, and a gorgonia solver steps the weights.
func Example() {
	g := gorgonia.NewGraph()
	// Fit w in y = x w to four points of y = 2 x₀ - x₁.
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(4, 2), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float64{1, 0, 0, 1, 1, 1, 2, 1}))))
	y := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(4, 1), gorgonia.WithName("y"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(4, 1), tensor.WithBacking([]float64{2, -1, 1, 3}))))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 1), gorgonia.WithName("w"), gorgonia.WithInit(gorgonia.Zeroes()))
	cost := gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Sub(gorgonia.Must(gorgonia.Mul(x, w)), y))))))
	grads, err := gorgonia.Grad(cost, w)
	if err != nil {
		log.Fatal(err)
	}

	m, err := machine.New(g, append(gorgonia.Nodes{cost}, grads...))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	solver := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.1))
	for step := 0; step < 40; step++ {
		if err := m.RunAll(); err != nil {
			log.Fatal(err)
		}
		if step%10 == 0 {
			fmt.Printf("step %3d: cost %.4f\n", step, cost.Value().Data())
		}
		if err := solver.Step(m.ValueGrads(gorgonia.Nodes{w})); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("w = %.3f\n", w.Value().Data())
	s := m.Stats()
	fmt.Printf("%d nodes, peak %d bytes: %d of parameters, %d of gradients, %d of inputs\n",
		s.Nodes, s.PeakBytes, s.ParamBytes, s.GradBytes, s.InputBytes)
	// Output:
	// step   0: cost 3.7500
	// step  10: cost 0.3186
	// step  20: cost 0.0979
	// step  30: cost 0.0301
	// w = [1.906 -0.847]
	// 15 nodes, peak 240 bytes: 16 of parameters, 0 of gradients, 112 of inputs
}
