// Package nf4 stores frozen weights in QLoRA's 4-bit NormalFloat (Dettmers
// et al., "QLoRA", arXiv 2305.14314) and multiplies by them.
//
// Quantize packs a float matrix into 4-bit codes, two per byte, high nibble
// first, in blocks of 64 weights that share one absmax; the absmax values are
// themselves quantised to 8 bits in blocks of 256 (double quantisation), the
// layout bitsandbytes' source describes. About 4.127 bits per weight.
//
// Linear is QLoRA's frozen base layer x @ w for such a weight: the forward
// and the input gradient dequantise a tile of w at a time into the input's
// dtype and multiply it, so a float copy of the whole weight never exists,
// and the backward never keeps x.
package nf4
