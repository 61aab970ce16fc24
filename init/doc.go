// Package vinit provides the strategies that choose VeLoRA's projection vector v.
//
// VeLoRA (Miles et al., "VeLoRA: Memory Efficient Training using Rank-1 Sub-Token
// Projections", NeurIPS 2024, arXiv 2405.17991) splits every token of a linear layer's
// input into sub-tokens of length M and keeps only their projections onto one unit
// vector v. This package decides what v is. With meanₙ the element-wise mean of batch n's
// sub-tokens and ‖·‖ the Euclidean norm (in parentheses the names [Parse] accepts; the
// reference implementation, roymiles/VeLoRA, calls the strategy init_type):
//
//   - [FirstBatchMean] (first_batch_mean, the reference's batch_average_once, the paper's
//     "fixed average" and its default): v = mean₁/‖mean₁‖, frozen afterwards.
//   - [BatchMean] (batch_mean, the reference's batch_average, the default of HuggingFace
//     PEFT's VeLoRA variant, huggingface/peft, src/peft/tuners/lora/velora.py):
//     vₙ = meanₙ/‖meanₙ‖, recomputed on every forward pass.
//   - [EMA] (the reference's ema_<decay>): v₁ = mean₁/‖mean₁‖ and
//     vₙ = uₙ/‖uₙ‖ with uₙ = decay·vₙ₋₁ + (1−decay)·meanₙ, the previous unit v mixed with
//     the raw batch mean.
//   - [RunningMean] (running_mean_<decay>, this package's own): a raw running mean
//     r₁ = mean₁, rₙ = decay·rₙ₋₁ + (1−decay)·meanₙ, and vₙ = rₙ/‖rₙ‖, so each batch's
//     weight is set by decay alone, whatever the size of the data.
//   - [SVD] (svd): the top right singular vector of the first batch's sub-tokens, frozen.
//   - [Uniform] (the reference's uniform, and none): v = u/‖u‖ with uᵢ uniform in [0, 1),
//     the reference's normalize(torch.rand(M)); every entry is non-negative.
//   - [Random] (random_<seed>, this package's own): v = g/‖g‖ with gᵢ standard normal, a
//     direction uniformly distributed on the unit sphere.
//
// After batch means (2, 0) and then (0, −3) at decay 0.5, EMA gives v = (1, −3)/√10 ≈
// (0.316, −0.949) and RunningMean (1, −1.5)/‖(1, −1.5)‖ ≈ (0.555, −0.832). [Parse] turns a
// name, in this package's spelling or the reference implementation's, into a [Strategy];
// the reference's names behave as they do there.
//
// The folder is init/ but the package is vinit: Go reserves the identifier init for
// package initialisation functions, so a package named init could never be imported
// (the import would declare an identifier init, which the language forbids).
//
// A [Strategy] holds configuration only; everything a projection remembers between
// batches lives in its [State], so one strategy value can serve many projections.
// The caller calls [Strategy.Init] once when the projection is created and
// [Strategy.Observe] with every forward [Batch] before compressing it; [Strategy.Frozen]
// says when Observe can no longer change v, so the caller may stop building batches.
//
// v is always a float64 unit vector. Two cases never produce a NaN v:
//   - a statistic that is exactly zero (an all-zero batch, or a zero mean) gives the
//     all-ones direction 1/sqrt(M) in every element, as HuggingFace PEFT's VeLoRA
//     variant does (huggingface/peft, src/peft/tuners/lora/velora.py);
//   - a NaN or ±Inf anywhere in a batch that Observe reads is an error naming the value
//     and its position, and the State is left exactly as it was.
package vinit
