package peft_test

import (
	"fmt"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/peft"
)

// A LoRA adapter of a one-layer LLaMA saved as a PEFT adapter directory,
// then read back the way a new run starts from it: the Config from
// adapter_config.json, a model built with it on the base weights, and the
// adapter's weights loaded into that model.
func ExampleSaveAdapter() {
	llama := layers.LLaMAConfig{Hidden: 16, Intermediate: 32, Heads: 2, Layers: 1, Vocab: 32, MaxSeq: 8}
	cfg := peft.Config{Method: peft.MethodLoRA, Rank: 4, Alpha: 8, Targets: []string{"q", "v"}}
	build := func(cfg peft.Config, params *layers.Params) *layers.Builder {
		adapter, err := peft.Apply(cfg, llama)
		if err != nil {
			log.Fatal(err)
		}
		b, err := layers.NewBuilder(params, tensor.Float32, adapter, 1)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := layers.NewLLaMA(b, llama, 1, 8); err != nil {
			log.Fatal(err)
		}
		return b
	}
	b := build(cfg, nil)
	// ... train b's model ...

	dir, err := os.MkdirTemp("", "adapter")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := peft.SaveAdapter(dir, b, llama, "my-llama"); err != nil {
		log.Fatal(err)
	}
	weights, _, err := checkpoint.Read(filepath.Join(dir, peft.AdapterWeightsFile))
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range slices.Sorted(maps.Keys(weights)) {
		fmt.Println(k, weights[k].Shape())
	}

	loaded, err := peft.LoadAdapterConfig(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s r=%d lora_alpha=%g targets %v\n", loaded.Method, loaded.Rank, loaded.Alpha, loaded.Targets)
	base := layers.NewParams() // the base model's weights: here b's
	for _, n := range b.Params.Names() {
		if err := base.Set(n, b.Params.Get(n)); err != nil {
			log.Fatal(err)
		}
	}
	for _, n := range b.Learnables() {
		base.Delete(n.Name())
	}
	fresh := build(loaded, base)
	if err := peft.LoadAdapter(dir, fresh, llama); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(fresh.Learnables()), "adapter tensors loaded")
	// Output:
	// base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight (4, 16)
	// base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight (16, 4)
	// base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight (4, 16)
	// base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight (16, 4)
	// lora r=4 lora_alpha=8 targets [q v]
	// 4 adapter tensors loaded
}

// LoRA merged into the base weights (PEFT's merge_and_unload) and saved as
// a HuggingFace LLaMA directory: config.json and model.safetensors, whose
// keys are LlamaForCausalLM's and hold no adapter.
func ExampleMergeAndUnload() {
	llama := layers.LLaMAConfig{Hidden: 16, Intermediate: 32, Heads: 2, Layers: 1, Vocab: 32, MaxSeq: 8}
	adapter, err := peft.Apply(peft.Config{Method: peft.MethodLoRA, Rank: 4, Targets: []string{"q", "v"}}, llama)
	if err != nil {
		log.Fatal(err)
	}
	b, err := layers.NewBuilder(nil, tensor.Float32, adapter, 1)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := layers.NewLLaMA(b, llama, 1, 8); err != nil {
		log.Fatal(err)
	}
	// ... train ...
	merged, err := peft.MergeAndUnload(b)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "merged")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := peft.SaveMerged(dir, merged, llama); err != nil {
		log.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	weights, _, err := checkpoint.Read(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(weights), "tensors; q_proj", weights["model.layers.0.self_attn.q_proj.weight"].Shape(), "lm_head", weights["lm_head.weight"].Shape())
	// Output:
	// config.json
	// model.safetensors
	// 12 tensors; q_proj (16, 16) lm_head (32, 16)
}
