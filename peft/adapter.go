package peft

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
)

// The two files of an adapter directory, as HuggingFace PEFT's
// save_pretrained names them.
const (
	AdapterConfigFile  = "adapter_config.json"       // PEFT's LoraConfig, and this project's "velora" key
	AdapterWeightsFile = "adapter_model.safetensors" // the trained tensors under PEFT's key names
)

// SaveAdapter writes the LoRA or QLoRA adapter of the model built on b (with
// the adapter peft.Apply made for method lora or qlora), a model of
// architecture arch (layers.LLaMAConfig or layers.ViTConfig), as a
// HuggingFace PEFT adapter directory that PEFT's
// PeftModel.from_pretrained loads onto the base model:
//
//   - adapter_model.safetensors holds every trainable parameter of b:
//     LoRA's A and B of each adapted module, and the parameters of
//     ModulesToSave's modules, under PEFT's keys
//     ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
//     "base_model.model.lm_head.weight") in PyTorch's layouts (lora_A
//     (r, in), lora_B (out, r); see layers.ToPyTorch), in b's dtype, with
//     the metadata {"format": "pt"};
//   - adapter_config.json holds the fields PEFT v0.12.0 writes for a
//     LoraConfig: peft_type "LORA", r, lora_alpha, lora_dropout,
//     target_modules (HuggingFace LLaMA's q_proj ... down_proj; timm ViT's
//     qkv, attn.proj, fc1, fc2), modules_to_save (lm_head, embed_tokens,
//     the norms; head, patch_embed, norm1, norm2, norm, cls_token,
//     pos_embed), bias "none", task_type ("CAUSAL_LM" for LLaMA; null for
//     a ViT, as PEFT has no task type for timm models, with auto_mapping
//     naming timm's VisionTransformer instead), base_model_name_or_path
//     (base, or null when empty) and PEFT's defaults for the rest.
//
// What PEFT's LoraConfig has no field for goes under the extra key
// "velora", written only for QLoRA or VeLoRA, so that a plain LoRA
// adapter's file is PEFT's own:
//
//	"velora": {
//	  "method": "qlora",                // "lora" or "qlora": the base was NF4 while training
//	  "layers": ["v_proj", "down_proj"], // the modules whose input VeLoRA compressed
//	  "sub_token_size": 16,             // VeLoRAConfig.SubTokenSize
//	  "sub_token_sizes": {"down_proj": 16, "v_proj": 8},
//	  "init_type": "batch_average_once", // how v was chosen (package vinit's names)
//	  "scale": 1,                       // velora_scale
//	  "z_dtype": "bf16"                 // VeLoRAConfig.ZDtype; absent for the model's dtype
//	}
//
// PEFT releases after v0.12.0 drop a key they do not know with a warning;
// v0.12.0 and earlier refuse it (TypeError: unexpected keyword argument),
// so delete the key for them. VeLoRA's vectors v are not saved: they shape
// only the training's backward pass, and a run that continues from the
// adapter chooses them again from its data.
//
// The directory is made when missing. Each file is written atomically (a
// temporary file renamed over it), the weights first, so an existing
// adapter is replaced file by file and an adapter_config.json always has
// its weights beside it; temporary files a killed save left of these two
// names are removed first.
func SaveAdapter(dir string, b *layers.Builder, arch layers.Architecture, base string) error {
	l, err := loraOf(b)
	if err != nil {
		return err
	}
	config, err := marshalAdapterConfig(l, arch, base)
	if err != nil {
		return err
	}
	learnables := b.Learnables()
	if len(learnables) == 0 {
		return errors.New("peft: saving an adapter: the model has no trainable parameter")
	}
	tensors := make(map[string]*tensor.Dense, len(learnables))
	for _, n := range learnables {
		v, err := layers.ToPyTorch(arch, n.Name(), b.Params.Get(n.Name()))
		if err != nil {
			return check.Wrap(err, "peft: saving an adapter")
		}
		tensors[layers.PEFTPrefix+n.Name()] = v
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return check.Wrap(err, "peft: saving an adapter")
	}
	if err := removeOwnTemps(dir, AdapterWeightsFile, AdapterConfigFile); err != nil {
		return err
	}
	if err := checkpoint.Write(filepath.Join(dir, AdapterWeightsFile), tensors, map[string]string{"format": "pt"}); err != nil {
		return check.Wrap(err, "peft: saving an adapter")
	}
	path := filepath.Join(dir, AdapterConfigFile)
	err = checkpoint.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(config)
		return err
	})
	return check.Wrapf(err, "peft: writing %s", path)
}

// loraOf is the LoRA adapter b was built with.
func loraOf(b *layers.Builder) (*layers.LoRA, error) {
	l, ok := b.Adapter.(*layers.LoRA)
	if !ok {
		return nil, errors.Errorf("peft: the model was built with %T, expected the LoRA adapter of method %s or %s", b.Adapter, MethodLoRA, MethodQLoRA)
	}
	return l, nil
}

// removeOwnTemps removes the temporary files checkpoint.WriteAtomic leaves
// in dir for the given names when a process is killed while writing, and
// only those: the directory may hold the user's other files.
func removeOwnTemps(dir string, names ...string) error {
	for _, name := range names {
		matches, err := filepath.Glob(filepath.Join(dir, "."+name+".tmp*"))
		if err != nil {
			return check.Wrap(err, "peft: saving an adapter")
		}
		for _, m := range matches {
			digits := strings.TrimPrefix(filepath.Base(m), "."+name+".tmp")
			if digits == "" || strings.Trim(digits, "0123456789") != "" {
				continue
			}
			if err := os.Remove(m); err != nil {
				return check.Wrap(err, "peft: saving an adapter")
			}
		}
	}
	return nil
}

// LoadAdapterConfig reads dir's adapter_config.json, in the form PEFT's
// save_pretrained writes it or SaveAdapter does, into the Config that
// builds a model for its weights: method lora (qlora when the "velora" key
// says so), Rank r, Alpha lora_alpha, Dropout lora_dropout, Targets the
// projections of target_modules, ModulesToSave the roles of
// modules_to_save (none when null), VeLoRA from the "velora" key. r and
// lora_alpha default to PEFT's 8. Settings under which PEFT's weights
// would mean something else here are errors naming the file and the key:
// a peft_type other than "LORA", bias other than "none", fan_in_fan_out,
// use_rslora, use_dora, layers_to_transform, layer_replication, per-module
// rank_pattern or alpha_pattern, and target_modules given as a regular
// expression or "all-linear". PEFT's other keys (init_lora_weights,
// inference_mode, task_type, base_model_name_or_path, revision, ...) and
// unknown keys are ignored. The Config's names are checked against a model
// by Apply or Validate.
func LoadAdapterConfig(dir string) (Config, error) {
	path := filepath.Join(dir, AdapterConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, check.Wrap(err, "peft: reading an adapter")
	}
	return parseAdapterConfig(data, path)
}

// LoadAdapter reads the adapter directory dir (see SaveAdapter) into the
// model built on b, a model of architecture arch built with the adapter
// that Apply made from LoadAdapterConfig(dir), or one with the same rank,
// alpha, targets and modules to save:
//
//	cfg, err := peft.LoadAdapterConfig(dir)
//	adapter, err := peft.Apply(cfg, llama)
//	b, err := layers.NewBuilder(baseParams, tensor.Float32, adapter, seed)
//	model, err := layers.NewLLaMA(b, llama, batch, seq)
//	err = peft.LoadAdapter(dir, b, llama)
//
// adapter_model.safetensors must hold exactly b's trainable parameters
// under PEFT's keys, in PyTorch's layouts; F16, BF16, F32 and F64 tensors
// are converted to b's dtype. The values are copied into b.Params, where
// the graph reads them. Errors name the file and the key: a missing or
// unknown key, a wrong shape, or an adapter_config.json whose r, lora_alpha,
// target_modules or modules_to_save differ from the model's. Nothing is
// changed when it fails. Dropout and VeLoRA may differ: they change
// training only. So may the method: a QLoRA adapter loads onto a full
// precision base, as in PEFT, and then computes slightly other values.
func LoadAdapter(dir string, b *layers.Builder, arch layers.Architecture) error {
	l, err := loraOf(b)
	if err != nil {
		return err
	}
	c, err := LoadAdapterConfig(dir)
	if err != nil {
		return err
	}
	configPath := filepath.Join(dir, AdapterConfigFile)
	r, err := c.resolve(arch)
	if err != nil {
		return inFile(configPath, err)
	}
	if err := matches(configPath, r, l, arch); err != nil {
		return err
	}
	path := filepath.Join(dir, AdapterWeightsFile)
	file, _, err := checkpoint.Read(path)
	if err != nil {
		return check.Wrap(err, "peft: loading an adapter")
	}
	expected := map[string]*tensor.Dense{}
	var missing []string
	for _, n := range b.Learnables() {
		key := layers.PEFTPrefix + n.Name()
		expected[key] = b.Params.Get(n.Name())
		if _, ok := file[key]; !ok {
			missing = append(missing, key)
		}
	}
	var unknown []string
	for k := range file {
		if _, ok := expected[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	switch {
	case len(missing) > 0:
		return errors.Errorf("peft: %s: missing %d of the model's %d adapter keys: %s", path, len(missing), len(expected), quoteSome(missing))
	case len(unknown) > 0:
		return errors.Errorf("peft: %s: %d key(s) the model has no adapter parameter for: %s", path, len(unknown), quoteSome(unknown))
	}
	values := make(map[string]*tensor.Dense, len(expected))
	for _, key := range slices.Sorted(maps.Keys(expected)) {
		name, have := strings.TrimPrefix(key, layers.PEFTPrefix), expected[key].Shape()
		if want := layers.PyTorchShape(arch, name, have); !file[key].Shape().Eq(want) {
			return errors.Errorf("peft: %s: key %q has shape %v, expected %v as the model has", path, key, file[key].Shape(), want)
		}
		v, err := layers.FromPyTorch(arch, name, file[key], have, b.Dtype)
		if err != nil {
			return check.Wrapf(err, "peft: %s: key %q", path, key)
		}
		values[name] = v
	}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if err := b.Params.Set(name, values[name]); err != nil {
			return check.Wrapf(err, "peft: %s", path)
		}
	}
	return nil
}

// matches checks that the adapter config, resolved, built l's parameters
// on a model of architecture arch.
func matches(path string, r resolved, l *layers.LoRA, arch layers.Architecture) error {
	rank, alpha := rankAlpha(l)
	if r.Rank != rank {
		return errors.Errorf("peft: %s: r %d, but the model was built with r %d", path, r.Rank, rank)
	}
	if r.Alpha != alpha {
		return errors.Errorf("peft: %s: lora_alpha %g, but the model was built with lora_alpha %g", path, r.Alpha, alpha)
	}
	if !sameSet(r.Targets, l.Targets) {
		return errors.Errorf("peft: %s: target_modules are the projections %s, but the model was built with adapters on %s",
			path, strings.Join(r.Targets, ", "), strings.Join(l.Targets, ", "))
	}
	if kind, _ := architecture(arch); !sameSet(savedRoles(kind, r.roles), savedRoles(kind, l.Trained)) {
		return errors.Errorf("peft: %s: modules_to_save %v, but the model was built training %s",
			path, r.ModulesToSave, roleList(l.Trained))
	}
	return nil
}

// savedRoles are the roles of an architecture's kind that have parameters
// to save: LLaMA has no position parameters.
func savedRoles(kind string, roles []layers.Role) []layers.Role {
	var out []layers.Role
	for _, r := range roles {
		if len(savedModules[kind][r]) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// roleList names roles as ModulesToSave does.
func roleList(roles []layers.Role) string {
	var names []string
	for n, r := range roleNames {
		if slices.Contains(roles, r) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "no other module"
	}
	return strings.Join(names, ", ")
}

// sameSet reports whether a and b hold the same elements.
func sameSet[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

// inFile names path in an error of this package.
func inFile(path string, err error) error {
	return check.Wrapf(err, "peft: %s", path)
}

// quoteSome lists names, sorted and quoted: the first five, then how many
// more.
func quoteSome(names []string) string {
	sort.Strings(names)
	var quoted []string
	for i, n := range names {
		if i == 5 {
			quoted = append(quoted, fmt.Sprintf("and %d more", len(names)-i))
			break
		}
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	return strings.Join(quoted, ", ")
}
