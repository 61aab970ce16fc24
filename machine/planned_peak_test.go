package machine

import (
	"testing"
)

// TestPlannedPeakEqualsTheRun wants PlannedPeak, asked before any run, to equal the peak
// the run then measures, and to stay equal after it, on every test graph, with gorgonia's
// Mul and with VeLoRA, unfused and fused, with and without recomputation.
func TestPlannedPeakEqualsTheRun(t *testing.T) {
	linears := []struct {
		name string
		lin  linearFunc
	}{{"mul", mul}, {"velora", veloraLinear(4)}}
	options := []struct {
		name string
		opts []Option
	}{
		{"plain", nil},
		{"fused", []Option{WithFusedUpdate(newAdam)}},
		{"recompute", []Option{WithRecompute(keepNothing)}},
		{"selective", []Option{WithRecompute(keepMatMuls)}},
		{"fused-recompute", []Option{WithFusedUpdate(newAdam), WithRecompute(keepNothing)}},
	}
	for _, tg := range testGraphs {
		for _, dt := range testDtypes {
			for _, l := range linears {
				for _, o := range options {
					t.Run(tg.name+"/"+dt.String()+"/"+l.name+"/"+o.name, func(t *testing.T) {
						m := tg.build(dt, l.lin)
						vm, err := New(m.g, m.outputs(), o.opts...)
						if err != nil {
							t.Fatal(err)
						}
						planned := vm.PlannedPeak()
						for run := 0; run < 2; run++ {
							if err := vm.RunAll(); err != nil {
								t.Fatal(err)
							}
							if got := vm.Stats().PeakBytes; got != planned {
								t.Fatalf("run %d: peak %d bytes, planned %d", run, got, planned)
							}
							planned = vm.PlannedPeak()
						}
					})
				}
			}
		}
	}
}
