package machine

import (
	"math"
	"math/rand"
	"runtime"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestSolverStateBytesMatchesTheHeap steps each solver once on one large parameter and
// compares SolverStateBytes with what the Go heap kept.
func TestSolverStateBytesMatchesTheHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates tens of megabytes")
	}
	solvers := []struct {
		name string
		new  func() gorgonia.Solver
	}{
		{"vanilla", func() gorgonia.Solver { return gorgonia.NewVanillaSolver() }},
		{"momentum", func() gorgonia.Solver { return gorgonia.NewMomentum() }},
		{"rmsprop", func() gorgonia.Solver { return gorgonia.NewRMSPropSolver() }},
		{"adam", func() gorgonia.Solver { return gorgonia.NewAdamSolver() }},
		{"adagrad", func() gorgonia.Solver { return gorgonia.NewAdaGradSolver() }},
		{"barzilai-borwein", func() gorgonia.Solver { return gorgonia.NewBarzilaiBorweinSolver() }},
	}
	rng := rand.New(rand.NewSource(5))
	g := gorgonia.NewGraph()
	w := leaf(g, rng, tensor.Float64, "w", 1, 1000, 1000) // 8 MB
	for _, s := range solvers {
		t.Run(s.name, func(t *testing.T) {
			solver := s.new()
			want, err := SolverStateBytes(solver, gorgonia.Nodes{w})
			if err != nil {
				t.Fatal(err)
			}
			grad := randDense(rng, tensor.Float64, 1, 1000, 1000)
			before := heapInUse()
			if err := solver.Step([]gorgonia.ValueGrad{paramGrad{node: w, grad: grad}}); err != nil {
				t.Fatal(err)
			}
			kept := heapInUse() - before
			runtime.KeepAlive(solver)
			runtime.KeepAlive(grad)
			// The heap moves by a few kilobytes on its own; 1% of 8 MB is far above that.
			if math.Abs(float64(kept-want)) > 0.01*8e6 {
				t.Fatalf("the solver kept %d bytes, SolverStateBytes says %d", kept, want)
			}
		})
	}
}

func TestSolverStateBytesOfAnUnknownSolverIsAnError(t *testing.T) {
	_, err := SolverStateBytes(stepCounter{}, nil)
	if err == nil || !strings.Contains(err.Error(), "solver machine.stepCounter, expected one of gorgonia's solvers") {
		t.Fatalf("got %v, want an error naming the solver type", err)
	}
}

type stepCounter struct{}

func (stepCounter) Step([]gorgonia.ValueGrad) error { return nil }
