package peft

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/machine"
)

// TestRecomputationKeepsEveryMethodsGradients trains two-block models with every method,
// with and without VeLoRA, under both recomputation policies, and wants the loss and every
// gradient bit for bit those of a run without recomputation, something recomputed, and the
// planned peak equal to the measured one on every machine.
func TestRecomputationKeepsEveryMethodsGradients(t *testing.T) {
	vit, llama := tinyViT, tinyLLaMA
	vit.Layers, llama.Layers = 2, 2
	policies := []struct {
		name string
		keep func([]layers.Block) func(*gorgonia.Node) bool
	}{{"blocks", layers.CheckpointBlocks}, {"cheap", layers.RecomputeCheap}, {"expansion", layers.RecomputeExpansion}}
	for _, method := range methods {
		for _, arch := range []layers.Architecture{vit, llama} {
			if method == MethodLinearProbe && arch == layers.Architecture(llama) {
				continue // nothing trains
			}
			for _, velora := range []*VeLoRAConfig{nil, {SubTokenSize: 4}} {
				if method == MethodLinearProbe && velora != nil {
					continue // no trained linear layer to compress
				}
				cfg := Config{Method: method, Rank: 2, Dropout: 0.1, VeLoRA: velora}
				name := method + "/" + arch.ProjectionNames()[0]
				if velora != nil {
					name += "/velora"
				}
				t.Run(name, func(t *testing.T) {
					want, _ := runStep(t, build(t, cfg, arch, tensor.Float64), nil)
					for _, pol := range policies {
						m := build(t, cfg, arch, tensor.Float64)
						if n := len(m.b.Blocks()); n != 2 {
							t.Fatalf("%d blocks, want 2", n)
						}
						got, s := runStep(t, m, pol.keep(m.b.Blocks()))
						if s.Recomputed == 0 && method != MethodLinearProbe { // a probe's backward pass stays in the head
							t.Errorf("%s: nothing recomputed", pol.name)
						}
						for k := range want {
							for i := range want[k] {
								if got[k][i] != want[k][i] {
									t.Fatalf("%s: output %d [%d] = %v, want %v", pol.name, k, i, got[k][i], want[k][i])
								}
							}
						}
					}
				})
			}
		}
	}
}

// runStep runs one step of m on a machine, recomputing what keep rejects when keep is not
// nil, checks PlannedPeak against the run, and returns the loss and the gradients.
func runStep(t *testing.T, m built, keep func(*gorgonia.Node) bool) ([][]float64, machine.Stats) {
	t.Helper()
	grads, err := gorgonia.Grad(m.loss, m.b.Learnables()...)
	if err != nil {
		t.Fatal(err)
	}
	var opts []machine.Option
	if keep != nil {
		opts = append(opts, machine.WithRecompute(keep))
	}
	outputs := append(gorgonia.Nodes{m.loss}, grads...)
	vm, err := machine.New(m.b.G, outputs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	planned := vm.PlannedPeak()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	s := vm.Stats()
	if s.PeakBytes != planned {
		t.Errorf("peak %d bytes, planned %d", s.PeakBytes, planned)
	}
	var out [][]float64
	for _, n := range outputs {
		switch d := n.Value().Data().(type) {
		case float64:
			out = append(out, []float64{d})
		default:
			out = append(out, append([]float64(nil), d.([]float64)...))
		}
	}
	return out, s
}
