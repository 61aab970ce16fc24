package layers_test

import (
	"fmt"
	"log"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/machine"
)

// A tiny LLaMA trained full-rank with VeLoRA on the value and down
// projections: one training step under package machine. 23840 parameters =
// embedding 50·32, per layer two norms 2·32, q, k, v, o 4·32·32, gate and up
// 2·32·64, down 64·32; final norm 32; head 32·50.
func ExampleNewLLaMA() {
	config := layers.LLaMAConfig{Hidden: 32, Intermediate: 64, Heads: 2, Layers: 2, Vocab: 50, MaxSeq: 16}
	velora := &layers.VeLoRA{Projections: []string{"v", "down"}, SubTokenSize: 8}
	b, err := layers.NewBuilder(nil, tensor.Float32, layers.Full{VeLoRA: velora}, 1)
	if err != nil {
		log.Fatal(err)
	}
	model, err := layers.NewLLaMA(b, config, 2, 16)
	if err != nil {
		log.Fatal(err)
	}
	ids := make([]int, 32)
	for i := range ids {
		ids[i] = i % config.Vocab
	}
	if err := model.SetBatch(ids, ids); err != nil {
		log.Fatal(err)
	}
	grads, err := gorgonia.Grad(model.Loss, b.Learnables()...)
	if err != nil {
		log.Fatal(err)
	}
	m, err := machine.New(b.G, append(gorgonia.Nodes{model.Loss}, grads...))
	if err != nil {
		log.Fatal(err)
	}
	if err := m.RunAll(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d parameters in %d tensors; VeLoRA projections: %d\n", b.Params.Count(), len(b.Learnables()), len(b.Projections()))
	// Output: 23840 parameters in 21 tensors; VeLoRA projections: 4
}
