package machine

import (
	"testing"

	"gorgonia.org/gorgonia"
)

func newAdam() gorgonia.Solver { return gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.01)) }

// TestFusedUpdateMatchesOneSolver steps each graph once with Adam, unfused (one solver,
// m.ValueGrads) and fused (a solver per parameter, inside RunAll), and wants the same
// parameters bit for bit. A parameter updated too early would change the gradients
// computed after it: the reshape graph reads u through a view in its backward pass. On the
// two-token MLP the weights outweigh the activations, so the unfused peak comes at the end
// of the backward pass, when every gradient is alive, and the fused peak must be lower.
func TestFusedUpdateMatchesOneSolver(t *testing.T) {
	graphs := []struct {
		name      string
		build     builder
		lowerPeak bool
	}{
		{"swiglu-mlp", swigluMLP(4, 2, 8, 32), true},
		{"attention", attention(12, 8), false},
		{"reshape-shared", reshapeShared(6, 8, false), false},
	}
	for _, tg := range graphs {
		for _, dt := range testDtypes {
			t.Run(tg.name+"/"+dt.String(), func(t *testing.T) {
				plain := tg.build(dt, mul)
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

				fused := tg.build(dt, mul)
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
				if tg.lowerPeak && (fs.PeakBytes >= s.PeakBytes || fs.GradBytes >= s.GradBytes) {
					t.Fatalf("fused peak %d (gradients %d), unfused %d (%d): want both lower", fs.PeakBytes, fs.GradBytes, s.PeakBytes, s.GradBytes)
				}
			})
		}
	}
}
