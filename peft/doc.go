// Package peft provides one configuration for every training method the
// VeLoRA paper (Miles et al., arXiv 2405.17991) compares, each with and
// without VeLoRA; the optimizers of its pre-training baselines are package
// optim's.
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
// The optimizers (AdamW, GaLore, FLoRA) and the learning-rate schedule are
// in package optim.
package peft
