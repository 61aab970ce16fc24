package machine

import (
	"math"
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

// TestMatchesFiniteDifferencesWhereTapeMachineDoesNot runs the reshape graph whose
// reshape views the shared tanh output. gorgonia v0.9.18's TapeMachine gets u's gradient
// wrong there (its registers clobber the shared value); the machine's gradients agree with
// central differences of its own cost.
func TestMatchesFiniteDifferencesWhereTapeMachineDoesNot(t *testing.T) {
	build := reshapeShared(6, 8, true)
	m := build(tensor.Float64, mul)
	vm, err := New(m.g, m.outputs())
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	probe := build(tensor.Float64, mul)
	cost, err := New(probe.g, probe.outputs()[:1])
	if err != nil {
		t.Fatal(err)
	}
	eval := func() float64 {
		if err := cost.RunAll(); err != nil {
			t.Fatal(err)
		}
		return flat(t, probe.cost.Value())[0]
	}
	const h = 1e-6 // central differences: error O(h²) plus rounding O(1e-16/h)
	for k, p := range probe.params {
		grad := flat(t, m.grads[k].Value())
		w := p.Value().Data().([]float64)
		for i := range w {
			orig := w[i]
			w[i] = orig + h
			up := eval()
			w[i] = orig - h
			down := eval()
			w[i] = orig
			if fd := (up - down) / (2 * h); math.Abs(grad[i]-fd) > 1e-7*math.Max(1, math.Abs(fd)) {
				t.Fatalf("d cost / d %s[%d] = %v, finite differences %v", p.Name(), i, grad[i], fd)
			}
		}
	}
}
