// Command quickstart trains an MLP of three GELU hidden layers with Adam
// twice on the same synthetic regression data under package machine: once
// with op.MatMul for every layer, once with VeLoRA's Linear for every layer
// whose input is a hidden activation (like the paper's "down" projection).
// It prints both losses side by side, the bytes each keeps of a hidden
// layer's input for the backward pass, and each step's exact peak.
//
//	go run ./examples/quickstart
package main

import (
	"fmt"
	"io"
	"log"
	"math/rand"
	"os"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/machine"
	"github.com/velora-go/velora/op"
	"github.com/velora-go/velora/op/nn"
)

const (
	tokens, width, hidden, outputs = 256, 32, 128, 8
	blocks                         = 3 // hidden layers
	subTokenSize                   = 16
	steps                          = 200
	learningRate                   = 0.01
)

func main() {
	if _, err := compare(os.Stdout, steps); err != nil {
		log.Fatal(err)
	}
}

// comparison is what compare measured: each run's loss before the first step and after
// the last, and each step's exact peak.
type comparison struct {
	plainFirst, plainLast, veloraFirst, veloraLast float64
	plainPeak, veloraPeak                          int64
}

// compare trains both MLPs for n steps, printing the losses every 40 steps and the peaks.
func compare(w io.Writer, n int) (comparison, error) {
	var c comparison
	rng := rand.New(rand.NewSource(1))
	x, y := data(rng)
	plain, err := newRun(x, y, false)
	if err != nil {
		return c, err
	}
	velora, err := newRun(x, y, true)
	if err != nil {
		return c, err
	}
	fmt.Fprintf(w, "MLP: x (%d, %d) → %d × GELU(· w) (%d, %d) → w → (%d, %d), sub-token size %d, float64\n",
		tokens, width, blocks, tokens, hidden, tokens, outputs, subTokenSize)
	fmt.Fprintf(w, "a hidden layer's input kept for backward: plain %d bytes, VeLoRA z %d bytes (%dx less)\n\n",
		tokens*hidden*8, tokens*hidden/subTokenSize*8, subTokenSize)
	fmt.Fprintln(w, "| step | plain loss | VeLoRA loss |")
	fmt.Fprintln(w, "| ---: | ---: | ---: |")
	for s := 0; s <= n; s++ {
		lp, err := plain.step()
		if err != nil {
			return c, err
		}
		lv, err := velora.step()
		if err != nil {
			return c, err
		}
		if s == 0 {
			c.plainFirst, c.veloraFirst = lp, lv
		}
		c.plainLast, c.veloraLast = lp, lv
		if s%40 == 0 {
			fmt.Fprintf(w, "| %d | %.5f | %.5f |\n", s, lp, lv)
		}
	}
	c.plainPeak, c.veloraPeak = plain.machine.Stats().PeakBytes, velora.machine.Stats().PeakBytes
	fmt.Fprintf(w, "\npeak of a step under package machine (exact bytes): plain %d, VeLoRA %d (%.0f%% lower)\n",
		c.plainPeak, c.veloraPeak, 100*(1-float64(c.veloraPeak)/float64(c.plainPeak)))
	return c, nil
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
	machine *machine.Machine
	solver  gorgonia.Solver
}

func newRun(x, y *tensor.Dense, velora bool) (*run, error) {
	g := gorgonia.NewGraph()
	xn := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(tokens, width), gorgonia.WithName("x"), gorgonia.WithValue(x.Clone()))
	yn := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(tokens, outputs), gorgonia.WithName("y"), gorgonia.WithValue(y.Clone()))
	rng := rand.New(rand.NewSource(2)) // the same initial weights for both runs
	weight := func(name string, in, out int, std float64) *gorgonia.Node {
		return gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(in, out), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(in, out), tensor.WithBacking(gaussian(rng, in*out, std)))))
	}
	var params gorgonia.Nodes
	h := xn
	for l := 0; l <= blocks; l++ {
		in, out, std := hidden, hidden, 0.1
		switch l {
		case 0:
			in, std = width, 0.2
		case blocks:
			out = outputs
		}
		w := weight(fmt.Sprintf("w%d", l), in, out, std)
		params = append(params, w)
		var err error
		if velora && l > 0 { // every layer whose input is a hidden activation
			var p *op.Projection
			if p, err = op.NewProjection(g, subTokenSize, tensor.Float64, vinit.FirstBatchMean(), fmt.Sprintf("v%d", l)); err != nil {
				return nil, err
			}
			h, err = op.Linear(h, w, p)
		} else {
			h, err = op.MatMul(h, w)
		}
		if err != nil {
			return nil, err
		}
		if l < blocks {
			h = gorgonia.Must(nn.GELU(h)) // (T, hidden)
		}
	}
	pred := h
	diff := gorgonia.Must(gorgonia.Sub(pred, yn))
	cost := gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Square(diff))))
	grads, err := gorgonia.Grad(cost, params...)
	if err != nil {
		return nil, err
	}
	m, err := machine.New(g, append(gorgonia.Nodes{cost}, grads...))
	if err != nil {
		return nil, err
	}
	return &run{params: params, cost: cost, machine: m, solver: gorgonia.NewAdamSolver(gorgonia.WithLearnRate(learningRate))}, nil
}

// step runs one forward and backward pass, updates the weights and returns
// the loss.
func (r *run) step() (float64, error) {
	if err := r.machine.RunAll(); err != nil {
		return 0, err
	}
	loss := r.cost.Value().Data().(float64)
	return loss, r.solver.Step(r.machine.ValueGrads(r.params))
}
