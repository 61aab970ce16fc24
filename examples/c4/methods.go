package main

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/optim"
	"github.com/velora-go/velora/peft"
)

// MethodNames are the rows of Table 4, in the paper's order.
var MethodNames = []string{"full", "lora", "galore", "flora", "velora"}

// methodLabels are the rows' names in the paper's table.
var methodLabels = map[string]string{
	"full": "Full-Rank", "lora": "LoRA", "galore": "GaLore", "flora": "FLoRA", "velora": "VeLoRA",
}

// Variant is one trained model: a row of a table.
type Variant struct {
	Key   string      // file-safe name, the checkpoint's folder
	Label string      // the row's name
	PEFT  peft.Config // how the model is built
	// Optimizer is "adamw", "galore" or "flora".
	Optimizer string
	// Recompute names peft.RecomputePolicy's policy ("" for none); Fused steps each
	// parameter as soon as its gradient exists (AdamW only).
	Recompute string
	Fused     bool
}

// solver is a gorgonia.Solver whose learning rate a schedule sets.
type solver interface {
	gorgonia.Solver
	SetLearningRate(lr float64)
}

// methodVariant is the Table 4 row of a method; rank is LoRA's r.
func methodVariant(c Config, rank int, method string) Variant {
	v := Variant{Key: method, Label: methodLabels[method], PEFT: peft.Config{Method: peft.MethodFull}, Optimizer: "adamw"}
	switch method {
	case "lora":
		// GaLore's LoRA baseline (ReLoRA's code with lora_only off): adapters on every
		// attention and MLP projection over base weights frozen at their random
		// initialisation; embeddings, norms and the head train fully.
		v.PEFT = peft.Config{Method: peft.MethodLoRA, Rank: rank, Alpha: c.LoRAAlpha,
			Targets:       []string{"q", "k", "v", "o", "gate", "up", "down"},
			ModulesToSave: []string{"embedding", "norm", "head"}}
	case "galore", "flora":
		v.Optimizer = method
	case "velora":
		v.PEFT.VeLoRA = c.veLoRA(c.VeLoRALayers, c.VeLoRAInit)
	}
	return v
}

// veLoRA is the VeLoRA configuration of the given layers and init, with the
// configured sub-token sizes.
func (c Config) veLoRA(layers, init string) *peft.VeLoRAConfig {
	return &peft.VeLoRAConfig{Layers: layers, SubTokenSize: c.SubTokenSize, SubTokenSizes: c.SubTokenSizes,
		Init: init, Scale: c.VeLoRAScale}
}

// newSolver makes the variant's optimizer. rank is r for GaLore and FLoRA.
func newSolver(c Config, v Variant, rank int) (solver, error) {
	adam := optim.AdamConfig{LearningRate: c.LR}
	switch v.Optimizer {
	case "adamw":
		return optim.NewAdamW(adam)
	case "galore":
		return optim.NewGaLore(optim.GaLoreConfig{AdamConfig: adam, Rank: rank, UpdateGap: c.GaLoreGap,
			Scale: c.GaLoreScale, Select: attentionOrMLP})
	case "flora":
		// The paper gives no FLoRA hyper-parameters; its code passes only lr.
		return optim.NewFLoRA(optim.FLoRAConfig{LearningRate: c.LR, Rank: rank, Kappa: c.FLoRAKappa,
			Seed: c.Seed, Select: attentionOrMLP})
	}
	return nil, errors.Errorf("c4: optimizer %q, expected adamw, galore or flora", v.Optimizer)
}

// attentionOrMLP chooses the parameters GaLore and FLoRA compress: as in
// GaLore's torchrun_main.py, the linear layers of attention and MLP, not the
// embedding, the head or the norms.
func attentionOrMLP(name string, shape tensor.Shape) bool {
	return len(shape) == 2 && (strings.Contains(name, ".self_attn.") || strings.Contains(name, ".mlp."))
}

// settingLabel describes a row's method setting: the rank, or VeLoRA's
// projections and sub-token sizes on model m, then its recomputation and
// fused update.
func settingLabel(v Variant, rank int, m layers.LLaMAConfig) string {
	var parts []string
	switch {
	case v.PEFT.Method == peft.MethodLoRA, v.Optimizer == "galore", v.Optimizer == "flora":
		parts = append(parts, fmt.Sprintf("r=%d", rank))
	case v.PEFT.VeLoRA != nil:
		parts = append(parts, veLoRALabel(v.PEFT.VeLoRA, m))
	}
	if v.Recompute != "" {
		parts = append(parts, "recompute "+v.Recompute)
	}
	if v.Fused {
		parts = append(parts, "fused update")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

// veLoRALabel names the projections VeLoRA compresses and their sub-token
// sizes M, as package peft resolves them: the default size, then a group
// count g (M = ⌈D/g⌉ for input width D), then a size by name.
func veLoRALabel(v *peft.VeLoRAConfig, m layers.LLaMAConfig) string {
	names, err := layers.Resolve(v.Layers, m.ProjectionNames(), m.ShorthandAliases())
	if err != nil {
		return v.Layers
	}
	sizes := make([]string, len(names))
	for i, name := range names {
		size := v.SubTokenSize
		if size == 0 {
			size = layers.DefaultSubTokenSize
		}
		if i < len(v.NumGroups) {
			in, _ := m.ProjectionShape(name)
			size = (in + v.NumGroups[i] - 1) / v.NumGroups[i]
		}
		if s, ok := v.SubTokenSizes[name]; ok {
			size = s
		}
		sizes[i] = fmt.Sprintf("%s M=%d", name, size)
	}
	return strings.Join(sizes, ", ")
}
