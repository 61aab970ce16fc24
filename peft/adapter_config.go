package peft

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
)

// This file maps a LoRA adapter's settings to HuggingFace PEFT's
// adapter_config.json (LoraConfig of huggingface/peft v0.12.0,
// src/peft/tuners/lora/config.py, with PeftConfig's peft_type, task_type,
// base_model_name_or_path and revision) and back.

// peftModules are the module names PEFT's target_modules gives each
// projection: HuggingFace LLaMA's, and timm's ViT's. "attn.proj" rather than
// "proj", because PEFT matches names as suffixes and "proj" would select
// timm's patch_embed.proj too.
var peftModules = map[string]map[string]string{
	"llama": {"q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj", "gate": "gate_proj", "up": "up_proj", "down": "down_proj"},
	"vit":   {"qkv": "qkv", "proj": "attn.proj", "fc1": "fc1", "fc2": "fc2"},
}

// projectionOf reads a target_modules name: a module name of either model,
// alone or after its parent's ("self_attn.q_proj", "mlp.fc1").
var projectionOf = map[string]string{
	"q_proj": "q", "k_proj": "k", "v_proj": "v", "o_proj": "o", "gate_proj": "gate", "up_proj": "up", "down_proj": "down",
	"self_attn.q_proj": "q", "self_attn.k_proj": "k", "self_attn.v_proj": "v", "self_attn.o_proj": "o",
	"mlp.gate_proj": "gate", "mlp.up_proj": "up", "mlp.down_proj": "down",
	"qkv": "qkv", "attn.qkv": "qkv", "proj": "proj", "attn.proj": "proj",
	"fc1": "fc1", "mlp.fc1": "fc1", "fc2": "fc2", "mlp.fc2": "fc2",
}

// savedModules are the module names PEFT's modules_to_save gives each role
// of Config.ModulesToSave. LLaMA has no position parameters. timm keeps the
// class token and position embedding as bare parameters, which PEFT's
// modules_to_save cannot wrap; they are written under their names all the
// same, so that their keys are the model's own in PEFT's state dict.
var savedModules = map[string]map[layers.Role][]string{
	"llama": {
		layers.RoleEmbedding: {"embed_tokens"},
		layers.RoleNorm:      {"input_layernorm", "post_attention_layernorm", "norm"},
		layers.RoleHead:      {"lm_head"},
	},
	"vit": {
		layers.RoleEmbedding: {"patch_embed"},
		layers.RoleNorm:      {"norm1", "norm2", "norm"},
		layers.RolePosition:  {"cls_token", "pos_embed"},
		layers.RoleHead:      {"head"},
	},
}

// roleOf reads a modules_to_save name as the ModulesToSave name of its role.
var roleOf = map[string]string{
	"embed_tokens": "embedding", "patch_embed": "embedding", "patch_embed.proj": "embedding",
	"input_layernorm": "norm", "post_attention_layernorm": "norm", "norm": "norm", "norm1": "norm", "norm2": "norm",
	"cls_token": "position", "pos_embed": "position",
	"lm_head": "head", "head": "head",
}

// architecture names the kind of model arch is, "llama" or "vit".
func architecture(arch layers.Architecture) (string, error) {
	switch arch.(type) {
	case layers.LLaMAConfig:
		return "llama", nil
	case layers.ViTConfig:
		return "vit", nil
	}
	return "", errors.Errorf("peft: adapter directories of a %T, expected a layers.LLaMAConfig or layers.ViTConfig", arch)
}

// veloraKey is the extra key of adapter_config.json that holds what PEFT's
// LoraConfig has no field for; see SaveAdapter.
const veloraKey = "velora"

// adapterExtras is the value of veloraKey. Layers empty means VeLoRA was
// off; the other VeLoRA fields then stay out.
type adapterExtras struct {
	Method        string         `json:"method"`
	Layers        []string       `json:"layers,omitempty"`
	SubTokenSize  int            `json:"sub_token_size,omitempty"`
	SubTokenSizes map[string]int `json:"sub_token_sizes,omitempty"`
	InitType      string         `json:"init_type,omitempty"`
	Scale         float64        `json:"scale,omitempty"`
	ZDtype        string         `json:"z_dtype,omitempty"`
}

// marshalAdapterConfig writes l's adapter_config.json for a model of
// architecture arch whose base is named base: every field PEFT v0.12.0's
// save_pretrained writes for a LoraConfig, keys sorted and indented by two
// spaces as PEFT writes them, plus veloraKey for QLoRA or VeLoRA.
func marshalAdapterConfig(l *layers.LoRA, arch layers.Architecture, base string) ([]byte, error) {
	kind, err := architecture(arch)
	if err != nil {
		return nil, err
	}
	names := peftModules[kind]
	targets := make([]string, len(l.Targets))
	for i, t := range l.Targets {
		targets[i] = names[t]
	}
	var saved []string
	for _, r := range l.Trained {
		saved = append(saved, savedModules[kind][r]...)
	}
	rank, alpha := rankAlpha(l)
	cfg := map[string]any{
		"alpha_pattern":           map[string]any{},
		"auto_mapping":            nil,
		"base_model_name_or_path": nil,
		"bias":                    "none",
		"fan_in_fan_out":          false,
		"inference_mode":          true,
		"init_lora_weights":       true,
		"layer_replication":       nil,
		"layers_pattern":          nil,
		"layers_to_transform":     nil,
		"loftq_config":            map[string]any{},
		"lora_alpha":              alpha,
		"lora_dropout":            l.Dropout,
		"megatron_config":         nil,
		"megatron_core":           "megatron.core",
		"modules_to_save":         saved,
		"peft_type":               "LORA",
		"r":                       rank,
		"rank_pattern":            map[string]any{},
		"revision":                nil,
		"target_modules":          targets,
		"task_type":               "CAUSAL_LM",
		"use_dora":                false,
		"use_rslora":              false,
	}
	if base != "" {
		cfg["base_model_name_or_path"] = base
	}
	if kind == "vit" {
		// PEFT's task types are transformers' heads; a timm model has none, and
		// PEFT records its class instead.
		cfg["task_type"] = nil
		cfg["auto_mapping"] = map[string]string{"base_model_class": "VisionTransformer", "parent_library": "timm.models.vision_transformer"}
	}
	if x := extras(l, names); x != nil {
		cfg[veloraKey] = x
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cfg); err != nil {
		return nil, check.Wrap(err, "peft: adapter_config.json")
	}
	return out.Bytes(), nil
}

// rankAlpha is l's r and lora_alpha, zeros replaced by layers' defaults.
func rankAlpha(l *layers.LoRA) (int, float64) {
	r, alpha := l.Rank, l.Alpha
	if r == 0 {
		r = layers.DefaultLoRARank
	}
	if alpha == 0 {
		alpha = layers.DefaultLoRAAlpha
	}
	return r, alpha
}

// extras is veloraKey's value for l, nil for plain LoRA, whose file is then
// PEFT's own.
func extras(l *layers.LoRA, names map[string]string) *adapterExtras {
	if !l.NF4 && l.VeLoRA == nil {
		return nil
	}
	x := &adapterExtras{Method: MethodLoRA}
	if l.NF4 {
		x.Method = MethodQLoRA
	}
	if v := l.VeLoRA; v != nil {
		x.SubTokenSize = v.SubTokenSize
		if x.SubTokenSize == 0 {
			x.SubTokenSize = layers.DefaultSubTokenSize
		}
		x.SubTokenSizes = map[string]int{}
		for _, p := range v.Projections {
			x.Layers = append(x.Layers, names[p])
			x.SubTokenSizes[names[p]] = v.Size(p)
		}
		x.InitType = v.Init
		if x.InitType == "" {
			x.InitType = "batch_average_once"
		}
		x.Scale = v.GradScale()
		x.ZDtype = v.ZFormat.String()
	}
	return x
}

// adapterJSON is an adapter_config.json being read: its keys, and the file
// that errors name.
type adapterJSON struct {
	source string
	raw    map[string]json.RawMessage
}

// null reports whether key is absent or null.
func (j adapterJSON) null(key string) bool {
	v, ok := j.raw[key]
	return !ok || string(bytes.TrimSpace(v)) == "null"
}

// errorf is an error naming the file.
func (j adapterJSON) errorf(format string, args ...any) error {
	return errors.Errorf("peft: %s: %s", j.source, fmt.Sprintf(format, args...))
}

// decode reads key into dst, or says that it is not what want describes.
func (j adapterJSON) decode(key string, dst any, want string) error {
	if err := json.Unmarshal(j.raw[key], dst); err != nil {
		return j.errorf("key %q is %s, expected %s", key, shorten(j.raw[key]), want)
	}
	return nil
}

// shorten quotes a JSON value for an error message, at most 60 bytes of it.
func shorten(v json.RawMessage) string {
	s := string(bytes.TrimSpace(v))
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// number reads an optional number (the default when absent or null) that
// must be finite and pass ok.
func (j adapterJSON) number(key string, def float64, ok func(float64) bool, want string) (float64, error) {
	if j.null(key) {
		return def, nil
	}
	var x float64
	if err := j.decode(key, &x, want); err != nil {
		return 0, err
	}
	if math.IsNaN(x) || math.IsInf(x, 0) || !ok(x) {
		return 0, j.errorf("key %q is %v, expected %s", key, x, want)
	}
	return x, nil
}

// names reads an optional list of names through table, in order and without
// repeats; nil when absent or null.
func (j adapterJSON) names(key string, table map[string]string, want string) ([]string, error) {
	if j.null(key) {
		return nil, nil
	}
	var list []string
	if err := j.decode(key, &list, "a list of module names"); err != nil {
		return nil, err
	}
	out := []string{}
	for _, n := range list {
		name, ok := table[n]
		if !ok {
			return nil, j.errorf("key %q: module %q, expected one of %s", key, n, want)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// unsupported is what must hold in a LoRA adapter_config.json for its
// weights to mean here what they mean in PEFT: each key absent, null or
// the given value.
var unsupported = []struct {
	key  string
	ok   string // the JSON the key may hold besides null
	what string
}{
	{"bias", `"none"`, "trained biases (only \"none\": biases stay frozen)"},
	{"fan_in_fan_out", "false", "weights stored (in, out)"},
	{"use_rslora", "false", "rank-stabilised scaling alpha/√r"},
	{"use_dora", "false", "DoRA"},
	{"layers_to_transform", "", "adapters on some layers only"},
	{"layer_replication", "", "replicated layers"},
	{"rank_pattern", "{}", "ranks per module"},
	{"alpha_pattern", "{}", "alphas per module"},
}

// parseAdapterConfig reads the content of an adapter_config.json; source
// names it in errors. Keys of PEFT's that do not change what the weights
// mean (init_lora_weights, inference_mode, task_type,
// base_model_name_or_path, revision, layers_pattern, loftq_config, ...)
// and keys it does not know are ignored, as PEFT ignores unknown keys.
func parseAdapterConfig(data []byte, source string) (Config, error) {
	j := adapterJSON{source: source}
	if err := json.Unmarshal(data, &j.raw); err != nil || j.raw == nil {
		return Config{}, errors.Errorf("peft: %s, expected a JSON object", source)
	}
	var c Config
	if j.null("peft_type") {
		return c, j.errorf(`missing key "peft_type", expected "LORA"`)
	}
	var kind string
	if err := j.decode("peft_type", &kind, `"LORA"`); err != nil {
		return c, err
	}
	if kind != "LORA" {
		return c, j.errorf(`peft_type %q, expected "LORA": only LoRA adapters load here`, kind)
	}
	for _, u := range unsupported {
		v := string(bytes.TrimSpace(j.raw[u.key]))
		if j.null(u.key) || v == u.ok || u.ok == "{}" && isEmptyObject(j.raw[u.key]) {
			continue
		}
		want := "null"
		if u.ok != "" {
			want = u.ok + " or null"
		}
		return c, j.errorf("key %q is %s: %s not supported, expected %s", u.key, shorten(j.raw[u.key]), u.what, want)
	}
	r, err := j.number("r", 8, func(x float64) bool { return x > 0 && x == math.Trunc(x) && x <= 1<<30 }, "a positive integer")
	if err != nil {
		return c, err
	}
	c.Rank = int(r)
	if c.Alpha, err = j.number("lora_alpha", 8, func(x float64) bool { return x > 0 }, "a positive number"); err != nil {
		return c, err
	}
	if c.Dropout, err = j.number("lora_dropout", 0, func(x float64) bool { return x >= 0 && x < 1 }, "a value in [0, 1)"); err != nil {
		return c, err
	}
	if v := j.raw["target_modules"]; !j.null("target_modules") && bytes.HasPrefix(bytes.TrimSpace(v), []byte(`"`)) {
		return c, j.errorf(`key "target_modules" is %s: a regular expression or "all-linear" is not supported, expected a list of module names such as ["q_proj", "v_proj"]`, shorten(v))
	}
	if c.Targets, err = j.names("target_modules", projectionOf, knownNames(projectionOf)); err != nil {
		return c, err
	}
	if c.ModulesToSave, err = j.names("modules_to_save", roleOf, knownNames(roleOf)); err != nil {
		return c, err
	}
	if c.ModulesToSave == nil {
		c.ModulesToSave = []string{} // none: not the architecture's default
	}
	c.Method = MethodLoRA
	if !j.null(veloraKey) {
		if err := j.readExtras(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// isEmptyObject reports whether v is the JSON object {}.
func isEmptyObject(v json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(v, &m) == nil && m != nil && len(m) == 0
}

// knownNames lists a table's names for an error message.
func knownNames(table map[string]string) string {
	return strings.Join(slices.Sorted(maps.Keys(table)), ", ")
}

// readExtras reads veloraKey into c's method and VeLoRA.
func (j adapterJSON) readExtras(c *Config) error {
	var x adapterExtras
	dec := json.NewDecoder(bytes.NewReader(j.raw[veloraKey]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&x); err != nil {
		return j.errorf("key %q: %v; expected {\"method\", \"layers\", \"sub_token_size\", \"sub_token_sizes\", \"init_type\", \"scale\", \"z_dtype\"}", veloraKey, err)
	}
	switch x.Method {
	case "", MethodLoRA:
	case MethodQLoRA:
		c.Method = MethodQLoRA
	default:
		return j.errorf("key %q: method %q, expected %q or %q", veloraKey, x.Method, MethodLoRA, MethodQLoRA)
	}
	if len(x.Layers) == 0 {
		if x.SubTokenSize != 0 || len(x.SubTokenSizes) > 0 || x.InitType != "" || x.Scale != 0 || x.ZDtype != "" {
			return j.errorf("key %q: VeLoRA settings without layers, expected the compressed modules in \"layers\"", veloraKey)
		}
		return nil
	}
	if x.SubTokenSize < 0 || math.IsNaN(x.Scale) || math.IsInf(x.Scale, 0) || x.Scale < 0 {
		return j.errorf("key %q: sub_token_size %d and scale %v, expected a positive size and a finite scale ≥ 0", veloraKey, x.SubTokenSize, x.Scale)
	}
	v := &VeLoRAConfig{SubTokenSize: x.SubTokenSize, Init: x.InitType, Scale: x.Scale, ZDtype: x.ZDtype}
	var sel []string
	for _, n := range x.Layers {
		p, ok := projectionOf[n]
		if !ok {
			return j.errorf("key %q: layers: module %q, expected one of %s", veloraKey, n, knownNames(projectionOf))
		}
		sel = append(sel, p)
	}
	v.Layers = strings.Join(sel, ", ")
	for _, n := range slices.Sorted(maps.Keys(x.SubTokenSizes)) {
		p, ok := projectionOf[n]
		if !ok {
			return j.errorf("key %q: sub_token_sizes: module %q, expected one of %s", veloraKey, n, knownNames(projectionOf))
		}
		if v.SubTokenSizes == nil {
			v.SubTokenSizes = map[string]int{}
		}
		v.SubTokenSizes[p] = x.SubTokenSizes[n]
	}
	c.VeLoRA = v
	return nil
}
