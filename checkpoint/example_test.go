package checkpoint_test

import (
	"fmt"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
)

// Save a LoRA adapter under its HuggingFace PEFT key and load it back.
func Example() {
	dir, err := os.MkdirTemp("", "checkpoint-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "adapter_model.safetensors")

	key := "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight"
	loraA := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6})) // (r, D)
	err = checkpoint.Write(path, map[string]*tensor.Dense{key: loraA}, map[string]string{"format": "pt"})
	if err != nil {
		fmt.Println(err)
		return
	}

	tensors, metadata, err := checkpoint.Read(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tensors[key].Shape(), tensors[key].Float32s(), metadata)
	// Output:
	// (2, 3) [1 2 3 4 5 6] map[format:pt]
}
