package train_test

import (
	"fmt"
	"log"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/optim"
	"github.com/velora-go/velora/peft"
	"github.com/velora-go/velora/train"
)

// A tiny LLaMA trained with LoRA (r = 4 on q and v) for 20 steps on one batch
// it learns by heart. AdamW keeps two moments per trainable number: 4 adapters
// of 16·4 + 4·16 = 128 numbers, 512 in all, 2·512·4 bytes of float32 moments.
func ExampleTrainer() {
	config := layers.LLaMAConfig{Hidden: 16, Intermediate: 32, Heads: 2, Layers: 2, Vocab: 13, MaxSeq: 8}
	adapter, err := peft.Apply(peft.Config{Rank: 4}, config)
	if err != nil {
		log.Fatal(err)
	}
	b, err := layers.NewBuilder(nil, tensor.Float32, adapter, 1)
	if err != nil {
		log.Fatal(err)
	}
	model, err := layers.NewLLaMA(b, config, 2, 8)
	if err != nil {
		log.Fatal(err)
	}
	ids, targets := make([]int, 16), make([]int, 16)
	for i := range ids {
		ids[i], targets[i] = i%config.Vocab, (i+1)%config.Vocab
	}
	if err := model.SetBatch(ids, targets); err != nil {
		log.Fatal(err)
	}
	solver, err := optim.NewAdamW(optim.AdamConfig{LearningRate: 1e-2})
	if err != nil {
		log.Fatal(err)
	}
	t, err := train.New(b, model.Loss, solver)
	if err != nil {
		log.Fatal(err)
	}
	defer t.Close()
	first, err := t.Step()
	if err != nil {
		log.Fatal(err)
	}
	last := first
	for range 19 {
		if last, err = t.Step(); err != nil {
			log.Fatal(err)
		}
	}
	mem, err := t.Memory()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("loss fell:", last < first)
	fmt.Println("optimizer state:", mem.Optimizer, "bytes")
	// Output:
	// loss fell: true
	// optimizer state: 4096 bytes
}
