package op_test

import (
	"fmt"
	"log"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/op"
)

// A VeLoRA linear layer in a gorgonia graph: 4 tokens of width 8, 3
// outputs, sub-tokens of length 4. v is the normalised mean sub-token of the
// first batch, here (15, 16, 17, 18)/√1094; the backward pass keeps z
// (4 × 2) instead of x (4 × 8).
func ExampleLinear() {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(4, 8), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(4, 8), tensor.WithBacking(tensor.Range(tensor.Float64, 1, 33)))))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(8, 3), gorgonia.WithName("w"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(8, 3), tensor.WithBacking(tensor.Range(tensor.Float64, 0, 24)))))

	p, err := op.NewProjection(g, 4, tensor.Float64, vinit.FirstBatchMean(), "v")
	if err != nil {
		log.Fatal(err)
	}
	out, err := op.Linear(x, w, p)
	if err != nil {
		log.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(out))
	grads, err := gorgonia.Grad(cost, w)
	if err != nil {
		log.Fatal(err)
	}

	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("out:", out.Shape(), "grad w:", grads[0].Shape())
	fmt.Printf("v: %.3f\n", p.Vector())
	// Output:
	// out: (4, 3) grad w: (8, 3)
	// v: [0.454 0.484 0.514 0.544]
}
