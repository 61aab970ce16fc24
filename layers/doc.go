// Package layers provides the models VeLoRA is trained on, built on a
// gorgonia graph from the fused ops of package nn (op/nn): a LLaMA decoder and a Vision
// Transformer, with every projection named (q, k, v, o, gate, up, down;
// qkv, proj, fc1, fc2) so that a training method can choose how each one
// is built.
//
// A Builder holds the graph, the Params (weights live outside any graph, by
// HuggingFace name, so one set of weights serves several graphs and
// checkpoints) and an Adapter, which builds every projection and says which
// other parameters train. Full trains everything; LoRA freezes the base
// (optionally in 4-bit NF4: QLoRA) and adds low-rank adapters; package peft
// adds the others. Either can compress, with VeLoRA (arXiv 2405.17991), the
// activations of the projections it selects:
//
//	b, _ := layers.NewBuilder(nil, tensor.Float32, layers.Full{VeLoRA: &layers.VeLoRA{Projections: []string{"v", "down"}}}, seed)
//	model, _ := layers.NewLLaMA(b, config, batch, seq)
//	grads, _ := gorgonia.Grad(model.Loss, b.Learnables()...)
//
// LLaMA configs are read from HuggingFace config.json files (the paper's
// 60M and 130M are shipped); parameters and adapters are saved and loaded
// as safetensors with PEFT's key names, and ViT weights load from the
// ImageNet-21k ViT-B_16.npz.
package layers
