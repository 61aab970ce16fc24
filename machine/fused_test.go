package machine

import (
	"testing"

	"gorgonia.org/gorgonia"
)

func newAdam() gorgonia.Solver { return gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.01)) }

// TestFusedUpdateMatchesOneSolver steps a SwiGLU MLP once with Adam, unfused (one solver,
// m.ValueGrads) and fused (a solver per parameter, inside RunAll), and wants the same
// parameters bit for bit and a lower peak. With two tokens the weights outweigh the
// activations, so the unfused peak comes at the end of the backward pass, when every
// gradient is alive.
func TestFusedUpdateMatchesOneSolver(t *testing.T) {
	build := swigluMLP(4, 2, 8, 32)
	for _, dt := range testDtypes {
		t.Run(dt.String(), func(t *testing.T) {
			plain := build(dt, mul)
			vm, err := New(plain.g, plain.outputs())
			if err != nil {
				t.Fatal(err)
			}
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			if err := newAdam().Step(vm.ValueGrads(plain.params)); err != nil {
				t.Fatal(err)
			}

			fused := build(dt, mul)
			fvm, err := New(fused.g, fused.outputs(), WithFusedUpdate(newAdam))
			if err != nil {
				t.Fatal(err)
			}
			if err := fvm.RunAll(); err != nil {
				t.Fatal(err)
			}
			if got, want := flat(t, fused.cost.Value()), flat(t, plain.cost.Value()); got[0] != want[0] {
				t.Fatalf("fused cost %v, want %v", got[0], want[0])
			}
			for k, p := range fused.params {
				sameValues(t, p.Name(), flat(t, p.Value()), flat(t, plain.params[k].Value()))
			}
			s, fs := vm.Stats(), fvm.Stats()
			if fs.PeakBytes >= s.PeakBytes || fs.GradBytes >= s.GradBytes {
				t.Fatalf("fused peak %d (gradients %d), unfused %d (%d): want both lower", fs.PeakBytes, fs.GradBytes, s.PeakBytes, s.GradBytes)
			}
		})
	}
}
