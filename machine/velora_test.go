package machine

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/op"
)

// veloraLinear builds op.Linear with sub-token size m and v set to the normalised mean of
// the first batch's sub-tokens.
func veloraLinear(m int) linearFunc {
	return func(x, w *gorgonia.Node) (*gorgonia.Node, error) {
		p, err := op.NewProjection(x.Graph(), m, x.Dtype(), vinit.FirstBatchMean(), w.Name()+".v")
		if err != nil {
			return nil, err
		}
		return op.Linear(x, w, p)
	}
}

func TestMatchesTapeMachineWithVeLoRALinear(t *testing.T) {
	for _, tg := range testGraphs {
		for _, dt := range testDtypes {
			t.Run(tg.name+"/"+dt.String(), func(t *testing.T) { checkMatchesTape(t, tg.build, dt, veloraLinear(4)) })
		}
	}
}

// retainedBytes is what gorgonia's TapeMachine keeps after a step: every node's value,
// each buffer once.
func retainedBytes(g *gorgonia.ExprGraph) int64 {
	var mem memory
	for _, n := range g.AllNodes() {
		if v := n.Value(); v != nil {
			lo, hi := span(v)
			mem.add(lo, hi, v, inputs, 0, false, true)
		}
	}
	return mem.total
}

// TestVeLoRALowersThePeak runs the SwiGLU MLP with Mul and with VeLoRA (M=16) on the down
// projections. VeLoRA keeps z: (T, F/M) for the backward pass instead of the down
// projection's input x: (T, F). The baseline's peak comes at the start of the backward
// pass, when the x of every block but the last is alive (the last block's weight gradient,
// the first node of the backward pass to run, has just freed its x); so the peak must fall
// by at least blocks-1 x less blocks z, and lie at least 2x below what TapeMachine retains.
func TestVeLoRALowersThePeak(t *testing.T) {
	const blocks, T, D, F, M = 4, 128, 32, 128, 16
	build := swigluMLP(blocks, T, D, F)
	peak := func(lin linearFunc) int64 {
		m := build(tensor.Float64, lin)
		vm, err := New(m.g, m.outputs())
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return vm.Stats().PeakBytes
	}
	baseline, velora := peak(mul), peak(veloraLinear(M))
	tape := build(tensor.Float64, mul)
	tapeRun(t, tape)
	retained := retainedBytes(tape.g)

	const f64 = 8
	saved := int64(((blocks-1)*T*F - blocks*T*F/M) * f64)
	if baseline-velora < saved {
		t.Fatalf("VeLoRA peak %d, baseline %d: saved %d bytes, want at least %d", velora, baseline, baseline-velora, saved)
	}
	if 2*velora > retained {
		t.Fatalf("VeLoRA peak %d, TapeMachine retains %d: want at least 2x less", velora, retained)
	}
}
