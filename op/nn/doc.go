// Package nn provides the fused transformer ops a training step is built
// from, as gorgonia ops. Each keeps for its backward pass only what its
// gradient needs, where gorgonia's element-wise compositions (package
// plain, op/plain) keep every temporary:
//
//	op                  what it computes                  what its backward keeps
//	AddBias             x + b per row                     nothing
//	RMSNorm, LayerNorm  per-row normalisation             the input and per-row statistics
//	SwiGLU, GELU        activations                       their inputs
//	RoPE                rotary position embeddings        nothing
//	Attention           multi-head, causal or not         q, k, v and the per-row log-sum-exp,
//	                                                      never the T×T probabilities
//	CrossEntropy        mean token loss                   the logits and their log-sum-exp
//	Embedding           a row gather                      the ids
//	ClassToken          ViT's class token and positions   nothing
//	Columns             a column range                    nothing
//	Dropout             inverted dropout                  nothing: the mask is redrawn
//
// Every op accepts float32 and float64 and runs under gorgonia's TapeMachine
// (SymDiff) and LispMachine (DoDiff); each is tested against the plain
// composition it replaces and against finite differences. The cheap ones
// (norms, activations, RoPE, bias, columns, class token) report op.Cheap, so
// a selective recomputation policy may drop and recompute their values.
package nn
