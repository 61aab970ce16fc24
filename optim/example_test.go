package optim_test

import (
	"fmt"

	"github.com/velora-go/velora/optim"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The learning rate of a 100-step run that warms up over 10 steps to 1e-3 and
// decays to a tenth of it.
func ExampleCosine() {
	lr, err := optim.NewCosine(10, 100, 1e-3, 0.1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, step := range []int{0, 5, 10, 55, 100} {
		fmt.Printf("step %3d: %.2e\n", step, lr.At(step))
	}
	// Output:
	// step   0: 0.00e+00
	// step   5: 5.00e-04
	// step  10: 1.00e-03
	// step  55: 5.50e-04
	// step 100: 1.00e-04
}

// weight is a parameter as a model hands it to a solver: its value and its
// gradient (a *gorgonia.Node of a differentiated graph is one too).
type weight struct{ w, g *tensor.Dense }

func (p weight) Value() gorgonia.Value         { return p.w }
func (p weight) Grad() (gorgonia.Value, error) { return p.g, nil }

// One AdamW step, as torch.optim.AdamW takes it: the first step moves each
// weight by the learning rate against its gradient's sign (the bias-corrected
// m/√v is ±1), after decaying it by lr·weight_decay.
func ExampleAdamW() {
	p := weight{
		w: tensor.New(tensor.WithBacking([]float64{1, -2})),
		g: tensor.New(tensor.WithBacking([]float64{0.5, -0.1})),
	}
	solver, err := optim.NewAdamW(optim.AdamConfig{LearningRate: 0.1, WeightDecay: 0.01})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := solver.Step([]gorgonia.ValueGrad{p}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("weights %.4f, state %d bytes\n", p.w.Data(), solver.StateBytes())
	// Output:
	// weights [0.8990 -1.8980], state 32 bytes
}
