package machine

import (
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/op/nn"
)

func keepNothing(*gorgonia.Node) bool { return false }

// keepMatMuls keeps the results of gorgonia's matrix products and recomputes everything
// else, as a selective policy does.
func keepMatMuls(n *gorgonia.Node) bool {
	return reflect.TypeOf(n.Op()).String() == "gorgonia.linAlgBinOp"
}

// TestRecomputeMatchesTapeMachine runs every test graph with recomputation and wants the
// cost and every gradient bit for bit those of TapeMachine, on three runs (the later ones
// recycle pooled buffers), with more node evaluations than without it.
func TestRecomputeMatchesTapeMachine(t *testing.T) {
	policies := []struct {
		name string
		keep func(*gorgonia.Node) bool
	}{{"keep-nothing", keepNothing}, {"keep-matmuls", keepMatMuls}}
	for _, tg := range testGraphs {
		for _, dt := range testDtypes {
			for _, pol := range policies {
				t.Run(tg.name+"/"+dt.String()+"/"+pol.name, func(t *testing.T) {
					want := tapeRun(t, tg.build(dt, mul))
					base := tg.build(dt, mul)
					bvm, err := New(base.g, base.outputs())
					if err != nil {
						t.Fatal(err)
					}
					if err := bvm.RunAll(); err != nil {
						t.Fatal(err)
					}
					m := tg.build(dt, mul)
					vm, err := New(m.g, m.outputs(), WithRecompute(pol.keep))
					if err != nil {
						t.Fatal(err)
					}
					for run := 0; run < 3; run++ {
						if err := vm.RunAll(); err != nil {
							t.Fatalf("run %d: %v", run, err)
						}
						for k, n := range m.outputs() {
							sameValues(t, n.Name(), flat(t, n.Value()), want[k])
						}
					}
					s, bs := vm.Stats(), bvm.Stats()
					if pol.name == "keep-nothing" && s.Recomputed == 0 {
						t.Fatal("nothing was recomputed")
					}
					if s.Nodes != bs.Nodes+s.Recomputed || bs.Recomputed != 0 {
						t.Fatalf("%d evaluations, %d recomputed; %d without recomputation", s.Nodes, s.Recomputed, bs.Nodes)
					}
				})
			}
		}
	}
}

// keepSums keeps the residual stream of the MLP, the values of its additions: per-block
// checkpointing.
func keepSums(n *gorgonia.Node) bool { return strings.HasPrefix(n.Op().String(), "+") }

// TestRecomputeLowersThePeak: on the SwiGLU MLP without recomputation the backward pass
// starts with every block's gate, up and activation alive. Keeping only the residual
// stream, the backward pass recomputes one block at a time, so the activations at the
// peak must fall below half. Keeping nothing lowers nothing: the first backward reader
// recomputes the whole chain from the input, and each value then lives until its own
// backward readers, as in the plain run.
func TestRecomputeLowersThePeak(t *testing.T) {
	build := swigluMLP(6, 16, 8, 32)
	peak := func(opts ...Option) Stats {
		m := build(tensor.Float64, mul)
		vm, err := New(m.g, m.outputs(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return vm.Stats()
	}
	base, re := peak(), peak(WithRecompute(keepSums))
	if 2*(re.ActivationBytes) >= base.ActivationBytes || re.PeakBytes >= base.PeakBytes {
		t.Fatalf("with recomputation: peak %d, activations %d; without: %d, %d", re.PeakBytes, re.ActivationBytes, base.PeakBytes, base.ActivationBytes)
	}
	if none := peak(WithRecompute(keepNothing)); none.PeakBytes > base.PeakBytes {
		t.Fatalf("keeping nothing: peak %d, above the plain %d", none.PeakBytes, base.PeakBytes)
	}
}

// TestStatefulOpsAreNotRecomputed puts nn.Dropout, which draws a new mask every time it
// runs, into the MLP. Recomputing it would give the backward pass another mask than the
// forward pass used; the gradients must still equal TapeMachine's.
func TestStatefulOpsAreNotRecomputed(t *testing.T) {
	withDropout := func(x, w *gorgonia.Node) (*gorgonia.Node, error) {
		d, err := nn.Dropout(x, 0.3, 7)
		if err != nil {
			return nil, err
		}
		return gorgonia.Mul(d, w)
	}
	build := swigluMLP(2, 8, 8, 16)
	want := tapeRun(t, build(tensor.Float64, withDropout))
	m := build(tensor.Float64, withDropout)
	vm, err := New(m.g, m.outputs(), WithRecompute(keepNothing))
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	for k, n := range m.outputs() {
		sameValues(t, n.Name(), flat(t, n.Value()), want[k])
	}
}

func TestWithRecomputeRejectsNil(t *testing.T) {
	m := swigluMLP(1, 2, 2, 2)(tensor.Float64, mul)
	if _, err := New(m.g, m.outputs(), WithRecompute(nil)); err == nil || !strings.Contains(err.Error(), "nil keep") {
		t.Fatalf("err = %v, want one about the nil keep function", err)
	}
}
