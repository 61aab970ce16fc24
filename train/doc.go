// Package train runs training steps of a model built with package layers
// under package machine, and reports where the step's memory goes:
// parameters, gradients, optimizer state, activations.
//
//	adapter, _ := peft.Apply(cfg, llamaConfig)
//	b, _ := layers.NewBuilder(params, tensor.Float32, adapter, seed)
//	model, _ := layers.NewLLaMA(b, llamaConfig, batch, seq)
//	t, _ := train.New(b, model.Loss, peft.NewAdamW(...))
//	for step := 0; step < steps; step++ {
//		model.SetBatch(ids, targets)
//		loss, _ := t.Step()
//	}
//	fmt.Println(t.Memory())
package train
