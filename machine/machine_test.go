package machine

import (
	"testing"

	"gorgonia.org/tensor"
)

// The graphs every equality test runs: small enough to run in milliseconds, shaped like
// the real thing.
var testGraphs = []struct {
	name  string
	build builder
}{
	{"swiglu-mlp", swigluMLP(4, 16, 8, 32)},
	{"attention", attention(12, 8)},
	{"reshape-shared", reshapeShared(6, 8, false)},
}

var testDtypes = []tensor.Dtype{tensor.Float64, tensor.Float32}

// checkMatchesTape builds the graph twice, runs one copy on TapeMachine and the other on
// a Machine three times (the later runs recycle pooled buffers), and wants the cost and
// every gradient bit for bit the same each time.
func checkMatchesTape(t *testing.T, build builder, dt tensor.Dtype, lin linearFunc) {
	want := tapeRun(t, build(dt, lin))
	m := build(dt, lin)
	vm, err := New(m.g, m.outputs())
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	for run := 0; run < 3; run++ {
		if err := vm.RunAll(); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		for k, n := range m.outputs() {
			sameValues(t, n.Name(), flat(t, n.Value()), want[k])
		}
	}
}

func TestMatchesTapeMachine(t *testing.T) {
	for _, tg := range testGraphs {
		for _, dt := range testDtypes {
			t.Run(tg.name+"/"+dt.String(), func(t *testing.T) { checkMatchesTape(t, tg.build, dt, mul) })
		}
	}
}
