// Package vinit provides the strategies that choose VeLoRA's projection vector v.
//
// VeLoRA (Miles et al., "VeLoRA: Memory Efficient Training using Rank-1 Sub-Token
// Projections", NeurIPS 2024, arXiv 2405.17991) splits every token of a linear layer's
// input into sub-tokens of length M and keeps only their projections onto one unit
// vector v. This package decides what v is: a seeded random direction ([Random]), the top
// right singular vector of the first batch's sub-tokens ([SVD]), the mean of the first
// batch's sub-tokens frozen afterwards ([FirstBatchMean], the paper's "fixed average" and
// its default), the mean of every batch ([BatchMean], HuggingFace PEFT's default) or an
// exponential running mean across batches ([RunningMean]). [Parse] turns a name, in this
// package's spelling or the reference implementation's, into a [Strategy].
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
//     all-ones direction 1/sqrt(M) in every element, as HuggingFace PEFT does;
//   - a NaN or ±Inf anywhere in a batch that Observe reads is an error naming the value
//     and its position, and the State is left exactly as it was.
package vinit
