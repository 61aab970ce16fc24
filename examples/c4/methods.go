package main

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

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
}

// solver is a gorgonia.Solver whose learning rate a schedule sets.
type solver interface {
	gorgonia.Solver
	SetLearningRate(lr float64)
}

// methodVariant is the Table 4 row of a method.
func methodVariant(c Config, method string) Variant {
	v := Variant{Key: method, Label: methodLabels[method], PEFT: peft.Config{Method: peft.MethodFull}, Optimizer: "adamw"}
	switch method {
	case "lora":
		// GaLore's LoRA baseline (ReLoRA's code with lora_only off): adapters on every
		// attention and MLP projection over base weights frozen at their random
		// initialisation; embeddings, norms and the head train fully.
		v.PEFT = peft.Config{Method: peft.MethodLoRA, Alpha: c.LoRAAlpha,
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
	adam := peft.AdamConfig{LearningRate: c.LR}
	switch v.Optimizer {
	case "adamw":
		return peft.NewAdamW(adam)
	case "galore":
		return peft.NewGaLore(peft.GaLoreConfig{AdamConfig: adam, Rank: rank, UpdateGap: c.GaLoreGap,
			Scale: c.GaLoreScale, Select: attentionOrMLP})
	case "flora":
		// The paper gives no FLoRA hyper-parameters; its code passes only lr.
		return peft.NewFLoRA(peft.FLoRAConfig{LearningRate: c.LR, Rank: rank, Kappa: c.FLoRAKappa,
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

// rankLabel describes the rank column of a method's row.
func rankLabel(v Variant, rank int, c Config) string {
	switch {
	case v.PEFT.Method == peft.MethodLoRA, v.Optimizer == "galore", v.Optimizer == "flora":
		return fmt.Sprintf("r=%d", rank)
	case v.PEFT.VeLoRA != nil:
		return veLoRALabel(v.PEFT.VeLoRA)
	}
	return "-"
}

// veLoRALabel names the layers and sub-token sizes of a VeLoRA setting.
func veLoRALabel(v *peft.VeLoRAConfig) string {
	if len(v.NumGroups) > 0 {
		return fmt.Sprintf("%s, groups %v", v.Layers, v.NumGroups)
	}
	var sizes []string
	for _, r := range v.Layers {
		name := string(r)
		if name == "d" {
			name = "down"
		}
		m, ok := v.SubTokenSizes[name]
		if !ok {
			m = v.SubTokenSize
		}
		sizes = append(sizes, fmt.Sprintf("%s M=%d", name, m))
	}
	return strings.Join(sizes, ", ")
}
