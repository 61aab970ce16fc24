// Package op provides the VeLoRA operators for gorgonia graphs: a linear
// layer whose backward pass keeps a rank-1 compressed copy of its input
// instead of the input itself.
//
// VeLoRA (Miles et al., "VeLoRA: Memory Efficient Training using Rank-1
// Sub-Token Projections", NeurIPS 2024, arXiv 2405.17991) splits every token
// x[t] of width D into ceil(D/M) sub-tokens of length M and keeps only their
// projections onto one frozen unit vector v:
//
//	z[t,k] = <x[t, kM:(k+1)M], v>              Compress:    (T, D) → (T, ceil(D/M))
//	x̂[t, kM+m] = z[t,k] · v[m]                 Reconstruct: (T, ceil(D/M)) → (T, D)
//
// A linear layer out = x @ w needs x only for its weight gradient
// grad_w = xᵀ g. Linear keeps z instead and computes grad_w = x̂ᵀ g without
// ever building x̂: grad_w[kM+m, j] = v[m] · (zᵀ g)[k, j], which costs M times
// fewer multiply-adds than reconstructing first. The input gradient
// grad_x = g wᵀ is exact. When M does not divide D, the last sub-token of
// every row is zero-padded, as HuggingFace PEFT's VeLoRA variant does
// (huggingface/peft, src/peft/tuners/lora/velora.py), so any width works.
//
// v lives in a Projection, an exported stateful op in the manner of
// gorgonia's BatchNormOp: the caller creates it with NewProjection, chooses
// how v is initialised (package vinit, folder init/) and reads or resets it.
// WithZFormat(ZBFloat16) (or ZFloat16) keeps z in 16 bits, a tensor.Uint16
// node of bit patterns that the ops reading z widen back: half of z's
// bytes for a float32 model, for a weight-gradient error far below the
// projection's own.
//
// Besides Linear the package has ScaleShift, the element-wise variant used
// by SSF (out = x ⊙ w + b whose grad_w uses x̂), MatMul, the plain linear
// layer VeLoRA is measured against, and FrozenLinear, the x @ w of a frozen
// base weight whose backward produces grad_x only and so never keeps x
// (LoRA's base layers).
//
// The sub-packages hold the rest of a training step: package nn (op/nn) the
// fused transformer ops (attention, norms, activations, rotary embeddings,
// embedding, loss, dropout), package nf4 (op/nf4) QLoRA's 4-bit NormalFloat
// weights and their frozen linear layer, and package plain (op/plain)
// gorgonia's own compositions that nn's ops are tested and measured against.
//
// Every op accepts float32 and float64 and runs under gorgonia's TapeMachine
// (symbolic differentiation through SymDiff) and LispMachine (DoDiff).
// Only an executor that frees values after their last reader, such as
// package machine, turns the smaller saved activation into a smaller peak:
// TapeMachine keeps every forward value alive until the end of the step.
package op
