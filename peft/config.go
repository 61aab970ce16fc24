package peft

import (
	"encoding/json"
	"os"
	"slices"
	"strings"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
)

// The training methods a Config can name.
const (
	MethodFull        = "full"         // every weight trains
	MethodLinearProbe = "linear-probe" // only the head trains
	MethodLoRA        = "lora"         // frozen base, low-rank adapters
	MethodQLoRA       = "qlora"        // LoRA on a 4-bit NF4 base
	MethodSSF         = "ssf"          // frozen base, scale and shift after each operation
	MethodHydra       = "hydra"        // frozen base, parallel and sequential low-rank adapters
)

// methods lists every method, in the order of the paper's tables.
var methods = []string{MethodFull, MethodLinearProbe, MethodLoRA, MethodQLoRA, MethodSSF, MethodHydra}

// Methods returns a copy of the list of every method, in the order of the
// paper's tables.
func Methods() []string { return slices.Clone(methods) }

// Config says how a model is trained, in the spirit of HuggingFace PEFT's
// LoraConfig. The zero value of every field means its documented default,
// so Config{} is LoRA with r = 8 and alpha = 8 on the model's default
// targets. The JSON names follow PEFT where PEFT has the field.
type Config struct {
	// Method is one of Methods. Default "lora".
	Method string `json:"method"`
	// Rank is the adapters' rank r (LoRA, QLoRA, Hydra). Default 8
	// (layers.DefaultLoRARank), as in PEFT.
	Rank int `json:"r"`
	// Alpha is lora_alpha; LoRA's update is scaled by Alpha/Rank.
	// Default 8 (layers.DefaultLoRAAlpha), as in PEFT.
	Alpha float64 `json:"lora_alpha"`
	// Dropout on the adapters' input, in [0, 1). Default 0.
	Dropout float64 `json:"lora_dropout"`
	// Scale multiplies Hydra's adapters (Hydra's per-task "scale").
	// Default 1.
	Scale float64 `json:"scale"`
	// Targets are the projections that get LoRA adapters, as names or the
	// paper's shorthand ("qv"). Default: q and v for LLaMA (PEFT's default),
	// the merged qkv for ViT.
	Targets []string `json:"target_modules"`
	// ModulesToSave are other parameters that train fully: "head",
	// "embedding", "norm", "position". Default: the head for a ViT
	// classifier, nothing for LLaMA. Ignored by full and linear-probe.
	ModulesToSave []string `json:"modules_to_save"`
	// VeLoRA compresses activations of the trained projections; nil is off.
	VeLoRA *VeLoRAConfig `json:"velora"`
	// Seed seeds dropout masks. Default 0.
	Seed int64 `json:"seed"`
}

// VeLoRAConfig selects what VeLoRA compresses and how (arXiv 2405.17991).
type VeLoRAConfig struct {
	// Layers are the projections whose trained linear compresses its input,
	// in the paper's shorthand ("vd") or by name ("v, down"). For SSF they
	// are the projections whose output's scale-shift is compressed, for
	// Hydra the projections whose parallel adapter's down projection is.
	// Default "vd" for full training; for LoRA and QLoRA the projections
	// of "vd" that have adapters (all targets when none has); "qkv, fc1"
	// for SSF on a ViT, the paper's "input scale and shift layers"; every
	// Hydra site for Hydra.
	Layers string `json:"velora_layers"`
	// SubTokenSize is the sub-token size M of every selected projection.
	// Default 16. M may exceed a projection's width D: its one sub-token is
	// then zero-padded, as everywhere M does not divide D.
	SubTokenSize int `json:"sub_token_size"`
	// SubTokenSizes overrides SubTokenSize per projection name. Names that
	// Layers does not select are checked but unused, so that one map can
	// serve several selections (as examples/c4's ablations do).
	SubTokenSizes map[string]int `json:"sub_token_sizes"`
	// NumGroups is the reference implementation's way of giving sizes: a
	// group count per selected projection, aligned with Layers (64, 86 for
	// "vd" in the 60M run). A projection compressing width D into G groups
	// has M = ceil(D/G). It overrides SubTokenSize and is overridden by
	// SubTokenSizes.
	NumGroups []int `json:"num_groups"`
	// Init names how v is chosen (see package vinit: the reference's
	// batch_average_once, batch_average, ema_<decay>, svd, uniform, and
	// vinit's own running_mean_<decay>, random_<seed>). Default
	// batch_average_once, the first batch's mean.
	Init string `json:"init_type"`
	// Scale multiplies the compressed weight gradient (velora_scale).
	// Default 1.
	Scale float64 `json:"velora_scale"`
	// ZDtype is how the compressed activations z are kept for the backward
	// pass: "bf16" (bfloat16) or "fp16" (IEEE half) halve their bytes in a
	// float32 model, adding to the weight gradient a relative error near
	// 2e-3 (bf16) or 2e-4 (fp16), against VeLoRA's own sqrt(1 − 1/M) on
	// random data. fp16 turns values beyond 65504 into ±Inf; bf16 keeps
	// float32's range. Default "", the model's dtype.
	ZDtype string `json:"z_dtype"`
}

// LoadConfig reads a Config from a JSON file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, check.Wrap(err, "peft: reading config")
	}
	var c Config
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, check.Wrapf(err, "peft: %s", path)
	}
	return c, nil
}

// withDefaults returns c with every zero field set to its default for the
// architecture.
func (c Config) withDefaults(arch layers.Architecture) Config {
	if c.Method == "" {
		c.Method = MethodLoRA
	}
	if c.Rank == 0 {
		c.Rank = layers.DefaultLoRARank
	}
	if c.Alpha == 0 {
		c.Alpha = layers.DefaultLoRAAlpha
	}
	if c.Scale == 0 {
		c.Scale = 1
	}
	_, vit := arch.(layers.ViTConfig)
	if c.Targets == nil {
		c.Targets = []string{"q", "v"}
		if vit {
			c.Targets = []string{"qkv"}
		}
	}
	if c.ModulesToSave == nil && vit {
		c.ModulesToSave = []string{"head"}
	}
	return c
}

// roleNames maps ModulesToSave's names to parameter roles.
var roleNames = map[string]layers.Role{
	"embedding": layers.RoleEmbedding,
	"norm":      layers.RoleNorm,
	"position":  layers.RolePosition,
	"head":      layers.RoleHead,
}

// Validate checks c against an architecture and names the first bad field
// and its value.
func (c Config) Validate(arch layers.Architecture) error {
	_, err := c.resolve(arch)
	return err
}
