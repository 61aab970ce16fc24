package main

import (
	"fmt"
	"math/rand"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/peft"
)

// MethodSizes are the small ViT and LLaMA the methods table trains.
type MethodSizes struct {
	ViT       layers.ViTConfig
	ViTBatch  int
	LLaMA     Sizes
	Rank      int
	SubTokens int
}

// defaultMethodSizes: a 2-block ViT on 32×32 images and a LLaMA half the
// main tables' width and depth, so that ten methods take a second or two
// each.
func defaultMethodSizes() MethodSizes {
	llama := defaultSizes()
	llama.LLaMA.Hidden, llama.LLaMA.Intermediate, llama.LLaMA.Layers = 128, 344, 2
	llama.Batch, llama.Seq = 4, 128
	return MethodSizes{ViT: layers.ViTConfig{ImageSize: 32, PatchSize: 4, Channels: 3, Hidden: 64, Layers: 2, Heads: 4, MLP: 256, Classes: 10},
		ViTBatch: 16, LLaMA: llama, Rank: 8, SubTokens: 16}
}

func quickMethodSizes() MethodSizes {
	m := defaultMethodSizes()
	m.ViT.ImageSize, m.ViT.Hidden, m.ViT.Layers, m.ViT.MLP, m.ViTBatch = 16, 32, 1, 64, 4
	m.LLaMA = quickSizes()
	return m
}

// methodTable measures every PEFT method with and without VeLoRA (its
// default selection for the method) on the small ViT or LLaMA.
func methodTable(m MethodSizes, arch layers.Architecture) (Table, error) {
	name := "ViT"
	if _, ok := arch.(layers.LLaMAConfig); ok {
		name = "LLaMA"
	}
	t := Table{Title: fmt.Sprintf("PEFT methods on a small %s, each with and without VeLoRA (its default selection, M = %d)", name, m.SubTokens)}
	for _, method := range peft.Methods() {
		if method == peft.MethodLinearProbe && name == "LLaMA" {
			continue // a language model has no new head to probe
		}
		for _, velora := range []bool{false, true} {
			if velora && method == peft.MethodLinearProbe {
				continue // nothing VeLoRA could compress
			}
			// LoRA's adapters on q, k, v and down (qkv and fc2 in a ViT),
			// so VeLoRA's default "vd" has adapters to compress.
			cfg := peft.Config{Method: method, Rank: m.Rank, Alpha: float64(2 * m.Rank), Targets: []string{"q", "k", "v", "d"}}
			label := method
			if velora {
				cfg.VeLoRA = &peft.VeLoRAConfig{SubTokenSize: m.SubTokens}
				label += " + VeLoRA"
			}
			r, err := methodRow(Setup{Name: label, Config: cfg, Exec: Machine}, arch, m)
			if err != nil {
				return t, err
			}
			t.Rows = append(t.Rows, r)
		}
	}
	return t, nil
}

// methodRow builds the model of arch with the setup's config on a seeded
// random batch (memory and time do not depend on the values) and measures
// it.
func methodRow(u Setup, arch layers.Architecture, m MethodSizes) (Row, error) {
	adapter, err := peft.Apply(u.Config, arch)
	if err != nil {
		return Row{}, err
	}
	b, err := layers.NewBuilder(nil, tensor.Float32, adapter, 1)
	if err != nil {
		return Row{}, err
	}
	rng := rand.New(rand.NewSource(1))
	switch c := arch.(type) {
	case layers.ViTConfig:
		model, err := layers.NewViT(b, c, m.ViTBatch)
		if err != nil {
			return Row{}, err
		}
		images := make([]float64, m.ViTBatch*c.ImageSize*c.ImageSize*c.Channels)
		for i := range images {
			images[i] = rng.NormFloat64()
		}
		labels := make([]int, m.ViTBatch)
		for i := range labels {
			labels[i] = rng.Intn(c.Classes)
		}
		if err := model.SetBatch(images, labels); err != nil {
			return Row{}, err
		}
		return measureBuilt(u, b, model.Loss, m.LLaMA.Warmup, m.LLaMA.Steps)
	default:
		return measure(u, m.LLaMA)
	}
}
