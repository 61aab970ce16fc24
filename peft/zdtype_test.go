package peft

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/machine"
	"github.com/velora-go/velora/op"
)

// step runs one training step of a built model under machine and returns
// the gradients by parameter name, the exact peak and every z's bytes.
func step(t *testing.T, m built) (grads map[string][]float64, peak, zBytes int64) {
	t.Helper()
	params := m.b.Learnables()
	for _, p := range params {
		// LoRA's B and Hydra's up projections start at zero, which zeroes the
		// gradient of the A before them, the one that reads z: give them a
		// fixed non-zero value.
		if d, ok := p.Value().Data().([]float32); ok && slices.Max(d) == 0 && slices.Min(d) == 0 {
			for i := range d {
				d[i] = float32(0.1 * math.Sin(float64(i+1)))
			}
		}
	}
	gs, err := gorgonia.Grad(m.loss, params...)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := machine.New(m.b.G, append(gorgonia.Nodes{m.loss}, gs...))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	planned := vm.PlannedPeak()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if peak = vm.Stats().PeakBytes; peak != planned {
		t.Errorf("planned peak %d bytes, measured %d", planned, peak)
	}
	grads = map[string][]float64{}
	for i, p := range params {
		grads[p.Name()] = testutil.Float64s(gs[i].Value().(*tensor.Dense))
	}
	// z is the output of the forward node that reads v and x alone.
	for _, p := range m.b.Projections() {
		for _, n := range m.b.G.AllNodes() {
			if c := childrenOf(m.b.G, n); len(c) == 2 && c[1] == p.V() {
				if n.Dtype() != p.ZDtype() {
					t.Errorf("z %v has dtype %v, its projection keeps %v", n, n.Dtype(), p.ZDtype())
				}
				zBytes += int64(n.Shape().TotalSize()) * int64(n.Dtype().Size())
			}
		}
	}
	return grads, peak, zBytes
}

// TestZDtypeKeepsEveryMethodsZIn16Bits builds every method with VeLoRA
// twice, z in float32 and in bf16 or fp16: every projection must keep z in
// the format asked for, z's bytes must halve, the peak must not rise, and
// the gradients must stay within rounding of the float32 z's (the weight
// gradients that read z move by about 2e-3 relative for bf16; the others
// not at all).
func TestZDtypeKeepsEveryMethodsZIn16Bits(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		arch layers.Architecture
	}{
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{Layers: "qkvd"}}, tinyLLaMA},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{}}, tinyViT},
		{Config{Method: MethodLoRA, Rank: 2, Targets: []string{"v", "down"}, VeLoRA: &VeLoRAConfig{}}, tinyLLaMA},
		{Config{Method: MethodQLoRA, Rank: 2, Targets: []string{"qkv", "fc2"}, VeLoRA: &VeLoRAConfig{}}, tinyViT},
		{Config{Method: MethodSSF, VeLoRA: &VeLoRAConfig{}}, tinyViT},
		{Config{Method: MethodHydra, Rank: 2, VeLoRA: &VeLoRAConfig{}}, tinyLLaMA},
	} {
		full := c.cfg
		full.VeLoRA = &VeLoRAConfig{Layers: c.cfg.VeLoRA.Layers, SubTokenSize: 4}
		fullGrads, fullPeak, fullZ := step(t, build(t, full, c.arch, tensor.Float32))
		for _, f := range []struct {
			name   string
			format op.ZFormat
			tol    float64 // a few times the format's relative rounding, 2⁻⁸ or 2⁻¹¹
		}{{"bf16", op.ZBFloat16, 1e-2}, {"fp16", op.ZFloat16, 2e-3}} {
			half := c.cfg
			half.VeLoRA = &VeLoRAConfig{Layers: c.cfg.VeLoRA.Layers, SubTokenSize: 4, ZDtype: f.name}
			m := build(t, half, c.arch, tensor.Float32)
			for module, p := range m.b.Projections() {
				if p.ZFormat() != f.format {
					t.Errorf("%s on %T, z_dtype %s: %s keeps z as %q", c.cfg.Method, c.arch, f.name, module, p.ZFormat())
				}
			}
			grads, peak, zBytes := step(t, m)
			t.Logf("%s on %T, z_dtype %s: z %d → %d bytes, peak %d → %d", c.cfg.Method, c.arch, f.name, fullZ, zBytes, fullPeak, peak)
			if zBytes == 0 || 2*zBytes != fullZ {
				t.Errorf("%s on %T, z_dtype %s: z takes %d bytes, float32's %d", c.cfg.Method, c.arch, f.name, zBytes, fullZ)
			}
			if peak > fullPeak {
				t.Errorf("%s on %T, z_dtype %s: peak %d bytes, above float32 z's %d", c.cfg.Method, c.arch, f.name, peak, fullPeak)
			}
			moved := 0
			for name, want := range fullGrads {
				var d, n float64
				for i, x := range grads[name] {
					d += (x - want[i]) * (x - want[i])
					n += want[i] * want[i]
				}
				if d > 0 {
					moved++
				}
				if rel := math.Sqrt(d / n); rel > f.tol {
					t.Errorf("%s on %T, z_dtype %s: %s's gradient is %.3g away from float32 z's, relative", c.cfg.Method, c.arch, f.name, name, rel)
				}
			}
			if moved == 0 {
				t.Errorf("%s on %T, z_dtype %s: no gradient changed, so z was not rounded", c.cfg.Method, c.arch, f.name)
			}
		}
	}
}

func TestZDtypeReadsFromJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"method": "full", "velora": {"velora_layers": "vd", "z_dtype": "bf16"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	adapter, err := Apply(cfg, tinyLLaMA)
	if err != nil {
		t.Fatal(err)
	}
	if v := adapter.(layers.Full).VeLoRA; v == nil || v.ZFormat != op.ZBFloat16 {
		t.Errorf("z_dtype bf16 gave %+v", v)
	}
}
