// Package peft provides one configuration for every training method the
// VeLoRA paper (Miles et al., arXiv 2405.17991) compares, each with and
// without VeLoRA, and the optimizers of its pre-training baselines.
//
// A Config names a method in the spirit of HuggingFace PEFT's LoraConfig
// (the same JSON field names where PEFT has them; every zero value means
// its documented default) and Apply turns it into a layers.Adapter after
// checking it against the model:
//
//   - full: every weight trains (VeLoRA compresses the selected
//     projections' inputs);
//   - linear-probe: only the head trains;
//   - lora and qlora (Hu et al., arXiv 2106.09685; Dettmers et al., arXiv
//     2305.14314): a frozen (4-bit NF4 for QLoRA) base with low-rank
//     adapters, VeLoRA compressing the input of each adapter's A;
//   - ssf (Lian et al., arXiv 2210.08823): a scale and shift after every
//     operation, VeLoRA in the scale-shifts after the selected projections;
//   - hydra (Kim et al., arXiv 2309.06922): parallel and sequential
//     low-rank adapters, VeLoRA on the parallel down projections.
//
// VeLoRAConfig selects the projections in the paper's shorthand ("vd":
// value and down) or by name, with a sub-token size per projection, or the
// reference code's num_groups. Summarize reports what a built model trains
// and what VeLoRA compresses.
//
// The optimizers are gorgonia solvers: AdamW (PyTorch's semantics; the
// full-rank baseline), GaLore (Zhao et al., arXiv 2403.03507: the gradient
// projected on its top singular vectors) and FLoRA (Hao, Cao and Mou, ICML
// 2024: random projections resampled from a seed), each reporting the
// bytes of its state, and CosineSchedule, the learning rate of the paper's
// C4 runs.
package peft
