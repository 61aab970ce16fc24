package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/peft"
)

// TestSaveAdapter runs full rank and LoRA with -save-adapter: the LoRA row's
// adapter is a PEFT directory that loads onto a freshly built model (its
// config read back from adapter_config.json) with B trained away from its
// zero start, and the full-rank row saves nothing and says so.
func TestSaveAdapter(t *testing.T) {
	c := smallConfig(t)
	c.Methods = []string{"full", "lora"}
	c.SaveAdapter = filepath.Join(t.TempDir(), "adapters")
	var log bytes.Buffer
	rep, err := Run(c, Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(c.SaveAdapter, "lora")
	if rep.Results[1].Adapter != dir || rep.Results[0].Adapter != "" {
		t.Fatalf("adapters %q and %q, want none and %s", rep.Results[0].Adapter, rep.Results[1].Adapter, dir)
	}
	if !strings.Contains(log.String(), "Full-Rank: no adapter to save") || !strings.Contains(log.String(), "LoRA: adapter saved to "+dir) {
		t.Errorf("log %q says nothing of what was saved", log.String())
	}
	if _, err := os.Stat(filepath.Join(c.SaveAdapter, "full")); !os.IsNotExist(err) {
		t.Errorf("full rank saved something: %v", err)
	}

	cfg, err := peft.LoadAdapterConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := c.setup(t)
	if cfg.Rank != s.Rank || cfg.Alpha != c.LoRAAlpha || len(cfg.Targets) != 7 || !slices.Equal(cfg.ModulesToSave, []string{"embedding", "norm", "head"}) {
		t.Fatalf("adapter config %+v, want r %d, alpha %g, 7 targets, embedding, norm and head saved", cfg, s.Rank, c.LoRAAlpha)
	}
	adapter, err := peft.Apply(cfg, s.Model)
	if err != nil {
		t.Fatal(err)
	}
	b, err := layers.NewBuilder(nil, tensor.Float32, adapter, c.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := layers.NewLLaMA(b, s.Model, 1, c.Seq); err != nil {
		t.Fatal(err)
	}
	if err := peft.LoadAdapter(dir, b, s.Model); err != nil {
		t.Fatal(err)
	}
	trained := false
	for _, x := range b.Params.Get("model.layers.0.self_attn.v_proj.lora_B.weight").Data().([]float32) {
		trained = trained || x != 0
	}
	if !trained {
		t.Error("the loaded lora_B is zero, its initial value: the trained adapter was not saved")
	}
}

func TestSaveAdapterNeedsALoRARow(t *testing.T) {
	for _, args := range [][]string{
		{"-save-adapter", "out", "-methods", "full,galore"},
		{"-save-adapter", "out", "-ablate", "layers"},
	} {
		_, err := parseFlags(args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "c4: -save-adapter saves the adapters of lora rows, and this run has none") {
			t.Errorf("%q: error %v", args, err)
		}
	}
	if c, err := parseFlags([]string{"-save-adapter", "out", "-methods", "lora"}, &bytes.Buffer{}); err != nil || c.SaveAdapter != "out" {
		t.Errorf("-save-adapter out -methods lora: %+v, %v", c.SaveAdapter, err)
	}
}
