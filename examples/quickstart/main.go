// Command quickstart trains a two-layer MLP, tanh(x w1) w2, with Adam
// twice on the same synthetic regression data: once with gorgonia's Mul for
// both layers, once with VeLoRA's Linear for the second (the paper's "down"
// projection). It prints both losses side by side and the bytes each keeps
// of the second layer's input for the backward pass.
//
//	go run ./examples/quickstart
package main

import (
	"fmt"
	"log"
	"math/rand"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/op"
)

const (
	tokens, width, hidden, outputs = 256, 32, 128, 8
	subTokenSize                   = 16
	steps                          = 200
	learningRate                   = 0.01
)

func main() {
	rng := rand.New(rand.NewSource(1))
	x, y := data(rng)
	plain, err := newRun(x, y, false)
	if err != nil {
		log.Fatal(err)
	}
	velora, err := newRun(x, y, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("MLP: x (%d, %d) → tanh(x w1) (%d, %d) → w2 → (%d, %d), sub-token size %d, float64\n",
		tokens, width, tokens, hidden, tokens, outputs, subTokenSize)
	fmt.Printf("second layer's input kept for backward: plain %d bytes, VeLoRA z %d bytes (%dx less)\n\n",
		tokens*hidden*8, tokens*hidden/subTokenSize*8, subTokenSize)
	fmt.Println("| step | plain loss | VeLoRA loss |")
	fmt.Println("| ---: | ---: | ---: |")
	for s := 0; s <= steps; s++ {
		lp, err := plain.step()
		if err != nil {
			log.Fatal(err)
		}
		lv, err := velora.step()
		if err != nil {
			log.Fatal(err)
		}
		if s%40 == 0 {
			fmt.Printf("| %d | %.5f | %.5f |\n", s, lp, lv)
		}
	}
}

// data returns Gaussian inputs and targets from a fixed random tanh MLP.
func data(rng *rand.Rand) (x, y *tensor.Dense) {
	x = tensor.New(tensor.WithShape(tokens, width), tensor.WithBacking(gaussian(rng, tokens*width, 1)))
	truth := tensor.New(tensor.WithShape(width, outputs), tensor.WithBacking(gaussian(rng, width*outputs, 0.3)))
	lin, err := x.MatMul(truth)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tensor.Tanh(lin, tensor.UseUnsafe()); err != nil {
		log.Fatal(err)
	}
	return x, lin
}

func gaussian(rng *rand.Rand, n int, std float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = std * rng.NormFloat64()
	}
	return out
}

// run is one training setup: a graph, its machine and a solver.
type run struct {
	params  gorgonia.Nodes
	cost    *gorgonia.Node
	machine gorgonia.VM
	solver  gorgonia.Solver
}

func newRun(x, y *tensor.Dense, velora bool) (*run, error) {
	g := gorgonia.NewGraph()
	xn := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(tokens, width), gorgonia.WithName("x"), gorgonia.WithValue(x.Clone()))
	yn := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(tokens, outputs), gorgonia.WithName("y"), gorgonia.WithValue(y.Clone()))
	rng := rand.New(rand.NewSource(2)) // the same initial weights for both runs
	w1 := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(width, hidden), gorgonia.WithName("w1"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(width, hidden), tensor.WithBacking(gaussian(rng, width*hidden, 0.2)))))
	w2 := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(hidden, outputs), gorgonia.WithName("w2"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(hidden, outputs), tensor.WithBacking(gaussian(rng, hidden*outputs, 0.1)))))
	h := gorgonia.Must(gorgonia.Tanh(gorgonia.Must(gorgonia.Mul(xn, w1)))) // (T, hidden)
	var pred *gorgonia.Node
	var err error
	if velora {
		var p *op.Projection
		if p, err = op.NewProjection(g, subTokenSize, tensor.Float64, vinit.FirstBatchMean(), "v"); err != nil {
			return nil, err
		}
		pred, err = op.Linear(h, w2, p)
	} else {
		pred, err = gorgonia.Mul(h, w2)
	}
	if err != nil {
		return nil, err
	}
	diff := gorgonia.Must(gorgonia.Sub(pred, yn))
	cost := gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Square(diff))))
	params := gorgonia.Nodes{w1, w2}
	if _, err := gorgonia.Grad(cost, params...); err != nil {
		return nil, err
	}
	return &run{params: params, cost: cost, machine: gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(params...)),
		solver: gorgonia.NewAdamSolver(gorgonia.WithLearnRate(learningRate))}, nil
}

// step runs one forward and backward pass, updates the weights and returns
// the loss.
func (r *run) step() (float64, error) {
	defer r.machine.Reset()
	if err := r.machine.RunAll(); err != nil {
		return 0, err
	}
	loss := r.cost.Value().Data().(float64)
	return loss, r.solver.Step(gorgonia.NodesToValueGrads(r.params))
}
