package peft

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/layers"
)

// wantError fails unless err mentions every one of parts.
func wantError(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one mentioning %q", what, parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q, want one mentioning %q", what, err, p)
		}
	}
}

func TestParseAdapterConfigErrors(t *testing.T) {
	const source = "some/dir/adapter_config.json"
	for _, c := range []struct {
		json, want string
	}{
		{`not json`, "expected a JSON object"},
		{`[1, 2]`, "expected a JSON object"},
		{`{"r": 2}`, `missing key "peft_type", expected "LORA"`},
		{`{"peft_type": "IA3"}`, `peft_type "IA3", expected "LORA"`},
		{`{"peft_type": 3}`, `key "peft_type" is 3, expected "LORA"`},
		{`{"peft_type": "LORA", "r": 0}`, `key "r" is 0, expected a positive integer`},
		{`{"peft_type": "LORA", "r": 2.5}`, `key "r" is 2.5, expected a positive integer`},
		{`{"peft_type": "LORA", "r": "8"}`, `key "r" is "8", expected a positive integer`},
		{`{"peft_type": "LORA", "lora_alpha": 0}`, `key "lora_alpha" is 0, expected a positive number`},
		{`{"peft_type": "LORA", "lora_dropout": 1}`, `key "lora_dropout" is 1, expected a value in [0, 1)`},
		{`{"peft_type": "LORA", "target_modules": "all-linear"}`, `"all-linear" is not supported`},
		{`{"peft_type": "LORA", "target_modules": ".*attn.*"}`, `a regular expression`},
		{`{"peft_type": "LORA", "target_modules": ["query", "value"]}`, `module "query", expected one of`},
		{`{"peft_type": "LORA", "target_modules": [1]}`, `key "target_modules" is [1], expected a list of module names`},
		{`{"peft_type": "LORA", "modules_to_save": ["classifier"]}`, `key "modules_to_save": module "classifier"`},
		{`{"peft_type": "LORA", "bias": "all"}`, `key "bias" is "all": trained biases`},
		{`{"peft_type": "LORA", "use_rslora": true}`, `key "use_rslora" is true`},
		{`{"peft_type": "LORA", "use_dora": true}`, `key "use_dora" is true: DoRA not supported`},
		{`{"peft_type": "LORA", "fan_in_fan_out": true}`, `key "fan_in_fan_out" is true`},
		{`{"peft_type": "LORA", "layers_to_transform": [0]}`, `key "layers_to_transform" is [0]`},
		{`{"peft_type": "LORA", "rank_pattern": {"q_proj": 4}}`, `key "rank_pattern"`},
		{`{"peft_type": "LORA", "velora": {"method": "dora"}}`, `method "dora", expected "lora" or "qlora"`},
		{`{"peft_type": "LORA", "velora": {"methd": "qlora"}}`, `unknown field "methd"`},
		{`{"peft_type": "LORA", "velora": {"method": "lora", "scale": 2}}`, `VeLoRA settings without layers`},
		{`{"peft_type": "LORA", "velora": {"layers": ["w_proj"]}}`, `layers: module "w_proj"`},
		{`{"peft_type": "LORA", "velora": {"layers": ["v_proj"], "sub_token_sizes": {"x": 4}}}`, `sub_token_sizes: module "x"`},
		{`{"peft_type": "LORA", "velora": {"layers": ["v_proj"], "sub_token_size": -4}}`, `sub_token_size -4`},
	} {
		_, err := parseAdapterConfig([]byte(c.json), source)
		wantError(t, c.json, err, source, c.want)
	}
	// PEFT's keys that change nothing here, and keys of later PEFT releases,
	// are ignored.
	c, err := parseAdapterConfig([]byte(`{"peft_type": "LORA", "init_lora_weights": "gaussian", "lora_bias": false, "eva_config": null,
		"use_rslora": false, "layers_pattern": "layers", "rank_pattern": {}, "bias": "none", "inference_mode": false}`), source)
	if err != nil || c.Rank != 8 || c.Alpha != 8 || c.Method != MethodLoRA || c.Targets != nil || c.ModulesToSave == nil || len(c.ModulesToSave) != 0 {
		t.Errorf("PEFT's defaults: %+v, %v; want r 8, alpha 8, default targets, no modules to save", c, err)
	}
}

// TestLoadAdapterErrors breaks the PEFT-form directory of peftDir in one
// way at a time; each error names the file and what is wrong, and a failed
// load leaves the model's parameters as they were.
func TestLoadAdapterErrors(t *testing.T) {
	model := func() adaptedModel {
		return buildAdapted(t, nil, Config{Rank: 2, Alpha: 16, Targets: []string{"q", "v"}, ModulesToSave: []string{}}, adapterLLaMA, tensor.Float32)
	}
	rewrite := func(t *testing.T, dir string, edit func(map[string]*tensor.Dense)) {
		path := filepath.Join(dir, AdapterWeightsFile)
		file, _, err := checkpoint.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		edit(file)
		if err := checkpoint.Write(path, file, nil); err != nil {
			t.Fatal(err)
		}
	}
	editConfig := func(t *testing.T, dir, old, new string) {
		path := filepath.Join(dir, AdapterConfigFile)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), old) {
			t.Fatalf("%s holds no %q", path, old)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const (
		a0 = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"
		b1 = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"
	)
	for _, c := range []struct {
		name   string
		break_ func(t *testing.T, dir string)
		file   string // the file the error must name
		want   []string
	}{
		{"no adapter_config.json", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, AdapterConfigFile)) },
			AdapterConfigFile, []string{"no such file"}},
		{"no weights", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, AdapterWeightsFile)) },
			AdapterWeightsFile, []string{"no such file"}},
		{"truncated weights", func(t *testing.T, dir string) {
			path := filepath.Join(dir, AdapterWeightsFile)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data[:len(data)-7], 0o644); err != nil {
				t.Fatal(err)
			}
		}, AdapterWeightsFile, []string{"data_offsets"}},
		{"unknown key", func(t *testing.T, dir string) {
			rewrite(t, dir, func(f map[string]*tensor.Dense) {
				f["base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight"] = f[a0]
			})
		}, AdapterWeightsFile, []string{`1 key(s) the model has no adapter parameter for: "base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight"`}},
		{"missing key", func(t *testing.T, dir string) {
			rewrite(t, dir, func(f map[string]*tensor.Dense) { delete(f, a0) })
		}, AdapterWeightsFile, []string{`missing 1 of the model's 8 adapter keys: "` + a0 + `"`}},
		{"wrong shape", func(t *testing.T, dir string) { // the last key: the others must not be loaded either
			rewrite(t, dir, func(f map[string]*tensor.Dense) {
				f[b1] = tensor.New(tensor.WithShape(8, 3), tensor.Of(tensor.Float32))
			})
		}, AdapterWeightsFile, []string{`key "` + b1 + `" has shape (8, 3), expected (8, 2) as the model has`}},
		{"wrong r", func(t *testing.T, dir string) { editConfig(t, dir, `"r": 2`, `"r": 4`) },
			AdapterConfigFile, []string{"r 4, but the model was built with r 2"}},
		{"wrong alpha", func(t *testing.T, dir string) { editConfig(t, dir, `"lora_alpha": 16`, `"lora_alpha": 32`) },
			AdapterConfigFile, []string{"lora_alpha 32, but the model was built with lora_alpha 16"}},
		{"other targets", func(t *testing.T, dir string) { editConfig(t, dir, `"v_proj",`, `"k_proj",`) },
			AdapterConfigFile, []string{"target_modules are the projections k, q, but the model was built with adapters on q, v"}},
		{"modules to save", func(t *testing.T, dir string) {
			editConfig(t, dir, `"modules_to_save": null`, `"modules_to_save": ["lm_head"]`)
		},
			AdapterConfigFile, []string{"modules_to_save [head], but the model was built training no other module"}},
		{"another method", func(t *testing.T, dir string) {
			editConfig(t, dir, `"peft_type": "LORA"`, `"peft_type": "PREFIX_TUNING"`)
		},
			AdapterConfigFile, []string{`peft_type "PREFIX_TUNING", expected "LORA"`}},
		{"rank above a width", func(t *testing.T, dir string) { editConfig(t, dir, `"r": 2`, `"r": 9`) },
			AdapterConfigFile, []string{"rank 9 is above the width"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, _ := peftDir(t)
			c.break_(t, dir)
			m := model()
			before := testutil.Float64s(m.b.Params.Get("model.layers.0.self_attn.q_proj.lora_A.weight"))
			err := LoadAdapter(dir, m.b, adapterLLaMA)
			wantError(t, c.name, err, append(c.want, filepath.Join(dir, c.file))...)
			sameValues(t, "A after a failed load", testutil.Float64s(m.b.Params.Get("model.layers.0.self_attn.q_proj.lora_A.weight")), before, 0)
		})
	}
}

// otherArch is an architecture adapter directories do not know.
type otherArch struct{ layers.LLaMAConfig }

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	full := buildAdapted(t, nil, Config{Method: MethodFull}, adapterLLaMA, tensor.Float32)
	wantError(t, "full fine-tuning", SaveAdapter(dir, full.b, adapterLLaMA, ""), "layers.Full", "expected the LoRA adapter")
	wantError(t, "loading into full fine-tuning", LoadAdapter(dir, full.b, adapterLLaMA), "expected the LoRA adapter")
	lora := buildAdapted(t, nil, Config{Rank: 2}, adapterLLaMA, tensor.Float32)
	wantError(t, "unknown architecture", SaveAdapter(dir, lora.b, otherArch{adapterLLaMA}, ""), "peft.otherArch", "expected a layers.LLaMAConfig or layers.ViTConfig")
	wantError(t, "merged with adapters", SaveMerged(dir, lora.b.Params, adapterLLaMA), "lora_A", "merge it first")
	if _, err := os.Stat(filepath.Join(dir, AdapterConfigFile)); !os.IsNotExist(err) {
		t.Errorf("a failed save wrote %s: %v", AdapterConfigFile, err)
	}
	_, err := MergeAndUnload(full.b)
	wantError(t, "merging full fine-tuning", err, "expected the LoRA adapter")
}

// TestSaveAdapterOverwritesAndCleansItsTemporaryFiles saves twice into one
// directory: the second adapter replaces the first, the temporary files a
// killed save left of the adapter's own files are removed, and the
// directory's other files stay.
func TestSaveAdapterOverwritesAndCleansItsTemporaryFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "adapter")
	cfg := Config{Rank: 2, Targets: []string{"v"}}
	first := buildAdapted(t, nil, cfg, adapterLLaMA, tensor.Float64)
	perturb(first, 1)
	if err := SaveAdapter(dir, first.b, adapterLLaMA, ""); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "."+AdapterWeightsFile+".tmp123456")
	kept := []string{filepath.Join(dir, "."+AdapterWeightsFile+".tmpnotes"), filepath.Join(dir, "README.md")}
	for _, p := range append(kept, stale) {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	second := buildAdapted(t, nil, cfg, adapterLLaMA, tensor.Float64)
	perturb(second, 2)
	if err := SaveAdapter(dir, second.b, adapterLLaMA, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s is still there (%v)", stale, err)
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	loaded := buildAdapted(t, nil, cfg, adapterLLaMA, tensor.Float64)
	if err := LoadAdapter(dir, loaded.b, adapterLLaMA); err != nil {
		t.Fatal(err)
	}
	for _, n := range second.b.Learnables() {
		sameValues(t, n.Name(), testutil.Float64s(loaded.b.Params.Get(n.Name())), testutil.Float64s(second.b.Params.Get(n.Name())), 0)
	}
}
