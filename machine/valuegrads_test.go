package machine

import (
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestValueGradsPairParamsWithTheirGradientsInOrder(t *testing.T) {
	m := attention(4, 4)(tensor.Float64, mul)
	vm, err := New(m.g, m.outputs())
	if err != nil {
		t.Fatal(err)
	}
	reversed := make(gorgonia.Nodes, len(m.params))
	for k, p := range m.params {
		reversed[len(m.params)-1-k] = p
	}
	if _, err := vm.ValueGrads(m.params)[0].Grad(); err == nil || !strings.Contains(err.Error(), "has not run") {
		t.Fatalf("before a run: %v, want an error saying the machine has not run", err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	for _, params := range []gorgonia.Nodes{m.params, reversed} {
		vgs := vm.ValueGrads(params)
		for k, vg := range vgs {
			if vg.Value() != params[k].Value() {
				t.Fatalf("ValueGrads[%d] holds the value of another node than %s", k, params[k].Name())
			}
			g, err := vg.Grad()
			if err != nil {
				t.Fatal(err)
			}
			if g != params[k].Deriv().Value() {
				t.Fatalf("ValueGrads[%d] holds another gradient than that of %s", k, params[k].Name())
			}
			if vg.(gorgonia.Namer).Name() != params[k].Name() {
				t.Fatalf("ValueGrads[%d] is named %q, want %q", k, vg.(gorgonia.Namer).Name(), params[k].Name())
			}
		}
	}

	x := m.g.ByName("x")[0]
	err = gorgonia.NewVanillaSolver().Step(vm.ValueGrads(gorgonia.Nodes{x}))
	if err == nil || !strings.Contains(err.Error(), `no output is the gradient of "x"`) {
		t.Fatalf("stepping an input: %v, want an error naming x", err)
	}
	vm.Reset()
	if _, err := vm.ValueGrads(m.params)[0].Grad(); err == nil {
		t.Fatal("after Reset: no error")
	}
}

func TestValueGradsAfterAFusedUpdateSayTheGradientWasConsumed(t *testing.T) {
	m := attention(4, 4)(tensor.Float64, mul)
	vm, err := New(m.g, m.outputs(), WithFusedUpdate(newAdam))
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.ValueGrads(m.params)[0].Grad(); err == nil || !strings.Contains(err.Error(), "consumed") {
		t.Fatalf("got %v, want an error saying the fused update consumed the gradient", err)
	}
}

// TestTrainingLoopMatchesTapeMachine runs the gorgonia loop (RunAll, Step, Reset) and
// checks that it keeps matching TapeMachine step after step, also after Close.
func TestTrainingLoopMatchesTapeMachine(t *testing.T) {
	build := swigluMLP(2, 8, 4, 16)
	tape, mine := build(tensor.Float64, mul), build(tensor.Float64, mul)
	tvm := gorgonia.NewTapeMachine(tape.g)
	vm, err := New(mine.g, mine.outputs())
	if err != nil {
		t.Fatal(err)
	}
	tapeSolver, solver := newAdam(), newAdam()
	for step := 0; step < 4; step++ {
		if err := tvm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if err := tapeSolver.Step(gorgonia.NodesToValueGrads(tape.params)); err != nil {
			t.Fatal(err)
		}
		tvm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if got, want := flat(t, mine.cost.Value()), flat(t, tape.cost.Value()); got[0] != want[0] {
			t.Fatalf("step %d: cost %v, TapeMachine %v", step, got[0], want[0])
		}
		if err := solver.Step(vm.ValueGrads(mine.params)); err != nil {
			t.Fatal(err)
		}
		if step == 1 {
			if err := vm.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			vm.Reset()
		}
	}
	for k, p := range mine.params {
		sameValues(t, p.Name(), flat(t, p.Value()), flat(t, tape.params[k].Value()))
	}
}
