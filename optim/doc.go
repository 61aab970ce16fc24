// Package optim provides the optimizers the paper trains and compares with,
// as gorgonia solvers (Step over a model's values and gradients):
//
//   - AdamW, with PyTorch's semantics (torch.optim.AdamW): the full-rank
//     baseline and the optimizer of every PEFT method;
//   - GaLore (Zhao et al., arXiv 2403.03507): Adam on the gradient projected
//     onto its top singular vectors, refreshed every UpdateGap steps;
//   - FLoRA (Hao, Cao and Mou, ICML 2024): momentum kept in random
//     projections that are redrawn from a seed, never stored.
//
// Each reports the bytes of its state (StateBytes), which the memory tables
// add to a step's peak. Cosine is the learning-rate schedule of the paper's
// C4 runs.
package optim
