package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/velora-go/velora/data/vtab"
	"github.com/velora-go/velora/peft"
)

// TestSaveAdapter fine-tunes full, LoRA and QLoRA with VeLoRA with
// -save-adapter: each adapter row's directory loads onto the backbone in a
// model built from its adapter_config.json and scores the run's accuracy
// again, and full tuning saves nothing.
func TestSaveAdapter(t *testing.T) {
	c := smoke(t)
	c.Rows = []Row{{peft.MethodFull, false}, {peft.MethodLoRA, false}, {peft.MethodQLoRA, true}}
	c.Batch = 250
	c.SaveAdapter = filepath.Join(t.TempDir(), "adapters")
	var out, log bytes.Buffer
	rep, err := Run(c, &out, &log)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, &log)
	}
	if want := "adapters    " + c.SaveAdapter + "/<task>/<row> for lora, qlora+velora; none for full (no LoRA adapter)"; !strings.Contains(out.String(), want) {
		t.Errorf("the configuration printed does not say %q:\n%s", want, &out)
	}
	task := c.Tasks[0]
	if _, err := os.Stat(filepath.Join(c.SaveAdapter, task, "full")); !os.IsNotExist(err) {
		t.Errorf("full tuning saved something: %v", err)
	}
	backbone, err := Backbone(c, vtab.Default(), newProgress("off", &log)) // the cached pre-training
	if err != nil {
		t.Fatal(err)
	}
	testSet, err := vtab.Load(vtab.Default(), task, vtab.Test, vtab.Config{Size: c.Model.ImageSize, Limit: c.TestLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results[1:] {
		dir := filepath.Join(c.SaveAdapter, task, res.Method)
		if res.Adapter != dir || !strings.Contains(log.String(), "adapter saved to "+dir) {
			t.Fatalf("%s: adapter %q, want %s said in the log", res.Method, res.Adapter, dir)
		}
		cfg, err := peft.LoadAdapterConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		wantMethod, wantVeLoRA := res.Method, false
		if m, ok := strings.CutSuffix(res.Method, veloraSuffix); ok {
			wantMethod, wantVeLoRA = m, true
		}
		if cfg.Method != wantMethod || (cfg.VeLoRA != nil) != wantVeLoRA || cfg.Rank != 4 || !slices.Equal(cfg.Targets, []string{"qkv"}) || !slices.Equal(cfg.ModulesToSave, []string{"head"}) {
			t.Fatalf("%s: adapter config %+v", res.Method, cfg)
		}
		params, err := clone(backbone)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := newModel(c, params, cfg, testSet.Classes, 1)
		if err != nil {
			t.Fatal(err)
		}
		model := c.Model
		model.Classes = testSet.Classes
		if err := peft.LoadAdapter(dir, b, model); err != nil {
			t.Fatal(err)
		}
		acc, err := evaluate(c, params, cfg, testSet)
		if err != nil {
			t.Fatal(err)
		}
		if acc != res.Accuracy {
			t.Errorf("%s: the loaded adapter scores %.1f%%, the run %.1f%%", res.Method, acc, res.Accuracy)
		}
	}
}

func TestSaveAdapterNeedsAnAdapterRow(t *testing.T) {
	_, err := parseFlags([]string{"-save-adapter", "out", "-methods", "full,ssf+velora,hydra"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "vtab: -save-adapter saves the adapters of lora and qlora rows, and -methods has none (full, ssf+velora, hydra)") {
		t.Errorf("error %v", err)
	}
	c, err := parseFlags([]string{"-save-adapter", "out", "-methods", "qlora"}, &bytes.Buffer{})
	if err != nil || c.SaveAdapter != "out" {
		t.Errorf("-save-adapter out -methods qlora: %q, %v", c.SaveAdapter, err)
	}
}
