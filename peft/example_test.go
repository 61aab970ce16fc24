package peft_test

import (
	"fmt"
	"log"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/peft"
)

// A small ViT classifier: 32×32 RGB images in 4×4 patches, width 64, 2
// blocks, 10 classes.
var vit = layers.ViTConfig{ImageSize: 32, PatchSize: 4, Channels: 3, Hidden: 64, Layers: 2, Heads: 4, MLP: 256, Classes: 10}

// summarize builds the ViT with cfg and prints what trains and what VeLoRA
// compresses.
func summarize(cfg peft.Config) {
	adapter, err := peft.Apply(cfg, vit)
	if err != nil {
		log.Fatal(err)
	}
	b, err := layers.NewBuilder(nil, tensor.Float32, adapter, 1)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := layers.NewViT(b, vit, 8); err != nil {
		log.Fatal(err)
	}
	s := peft.Summarize(b)
	fmt.Printf("%d trainable in %d tensors; VeLoRA: %v\n", s.TrainableParams, len(s.Trainable), s.Compressed)
}

// Full fine-tuning with VeLoRA on its default selection: every weight
// trains, and the inputs of qkv (q, k and v share it) and fc2 are
// compressed. 108106 = patch embedding 48·64+64, class token 64, position
// 65·64, per block 2·64 + (64·192+192) + (64·64+64) + 2·64 + (64·256+256) +
// (256·64+64), final norm 2·64, head 64·10+10.
func ExampleApply_full() {
	summarize(peft.Config{Method: peft.MethodFull, VeLoRA: &peft.VeLoRAConfig{SubTokenSize: 16}})
	// Output: 108106 trainable in 32 tensors; VeLoRA: [blocks.0.attn.qkv blocks.0.mlp.fc2 blocks.1.attn.qkv blocks.1.mlp.fc2]
}

// Linear probing: only the new head trains, so there is nothing for VeLoRA
// to compress.
func ExampleApply_linearProbe() {
	summarize(peft.Config{Method: peft.MethodLinearProbe})
	// Output: 650 trainable in 2 tensors; VeLoRA: []
}

// LoRA on the merged qkv projection (the default target for a ViT), rank
// 16, with VeLoRA compressing the input of LoRA's A, as HuggingFace PEFT
// does; the head trains too.
func ExampleApply_lora() {
	summarize(peft.Config{Method: peft.MethodLoRA, Rank: 16, VeLoRA: &peft.VeLoRAConfig{Layers: "qkv", SubTokenSize: 16}})
	// Output: 8842 trainable in 6 tensors; VeLoRA: [blocks.0.attn.qkv blocks.1.attn.qkv]
}

// QLoRA: LoRA on a frozen base stored in 4-bit NormalFloat. Per block
// qkv 64·8 + 8·192 and fc2 256·8 + 8·64, plus the head's 650.
func ExampleApply_qlora() {
	summarize(peft.Config{Method: peft.MethodQLoRA, Rank: 8, Targets: []string{"qkv", "fc2"}})
	// Output: 9866 trainable in 10 tensors; VeLoRA: []
}

// SSF: a scale and shift after every operation; with VeLoRA the ones after
// qkv and fc1 (the paper's "input scale and shift layers") keep a
// compressed copy of their input. Per block a γ and β after norm1 (64),
// qkv (192), proj (64), norm2 (64), fc1 (256) and fc2 (64); after the patch
// embedding and the final norm; plus the head.
func ExampleApply_ssf() {
	summarize(peft.Config{Method: peft.MethodSSF, VeLoRA: &peft.VeLoRAConfig{SubTokenSize: 16}})
	// Output: 3722 trainable in 30 tensors; VeLoRA: [blocks.0.attn.qkv blocks.0.mlp.fc1 blocks.1.attn.qkv blocks.1.mlp.fc1]
}

// Hydra: parallel and sequential rank-4 adapters on proj and fc2; VeLoRA
// compresses the parallel branches' down-projection inputs. A branch
// in → 4 → out has in·4 + 4 + 4·out + out parameters: per block proj's
// two (64 → 64) and fc2's parallel (256 → 64) and sequential (64 → 64).
func ExampleApply_hydra() {
	summarize(peft.Config{Method: peft.MethodHydra, Rank: 4, Scale: 0.1, VeLoRA: &peft.VeLoRAConfig{SubTokenSize: 16}})
	// Output: 6826 trainable in 34 tensors; VeLoRA: [blocks.0.attn.proj.hydra_par blocks.0.mlp.fc2.hydra_par blocks.1.attn.proj.hydra_par blocks.1.mlp.fc2.hydra_par]
}
