// Package train runs training steps of a model built with package layers
// under package machine, and reports where the step's memory goes:
// parameters, gradients, optimizer state, activations.
//
//	adapter, _ := peft.Apply(cfg, llamaConfig)
//	b, _ := layers.NewBuilder(params, tensor.Float32, adapter, seed)
//	model, _ := layers.NewLLaMA(b, llamaConfig, batch, seq)
//	solver, _ := optim.NewAdamW(optim.AdamConfig{LearningRate: 1e-3})
//	t, _ := train.New(b, model.Loss, solver)
//	for step := 0; step < steps; step++ {
//		model.SetBatch(ids, targets)
//		loss, _ := t.Step()
//	}
//	fmt.Println(t.Memory())
//
// # The process's memory
//
// Memory's figures are exact; what runs out is the process's resident memory.
// After the first step the machine's arena holds every value a step computes
// and a step allocates little else on the Go heap (about 2 MiB against a
// 180 MiB peak on the bench's LLaMA), so the live heap stays put and the
// collector has little to do. At Go's default GOGC=100 it lets that garbage
// pile up to the size of the live heap before it collects: on the bench's
// LLaMA the resident set grew from 209 to 294 MiB over 40 steps without one
// collection. Run training with GOGC=10 (or debug.SetGCPercent(10)), or a
// GOMEMLIMIT a little above the step's peak, to keep it within a tenth: 222
// MiB at GOGC=10 over the same 40 steps, five collections.
package train
