// Package checkpoint provides reading and writing of model weights in the
// two file formats the project meets: safetensors, in which HuggingFace
// PEFT saves adapters (adapter_model.safetensors with keys such as
// "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight"), and
// NumPy's .npz, in which the ImageNet-21k ViT-B/16 weights (ViT-B_16.npz,
// keys such as "Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel") are
// published. It knows formats, not models: package layers maps parameter
// names to keys.
//
// A safetensors file (https://github.com/huggingface/safetensors) is an
// 8-byte little-endian header length N, N bytes of JSON mapping each tensor
// name to {"dtype", "shape", "data_offsets": [begin, end]} plus an optional
// "__metadata__" map of strings, then the little-endian data buffer that the
// tensors tile without gaps or overlaps. Write stores float32 and float64
// tensors with keys sorted and the header space-padded to a multiple of 8
// bytes, as the reference writer does; Read also widens F16 and BF16 to
// float32, as real HuggingFace checkpoints often hold them.
//
// An .npz file is a zip archive of .npy files, one per key (numpy.savez);
// a .npy file is the magic "\x93NUMPY", a version, a header length, a Python
// dict literal giving descr, fortran_order and shape, then the raw data
// (the format of NumPy's NEP 1, numpy.lib.format). ReadNPZ accepts versions
// 1.0 to 3.0, '<f2', '<f4' and '<f8' data, C and Fortran order and any rank
// including scalars; WriteNPZ lays files out as numpy.savez does, so tests
// can build tiny checkpoints in the ViT-B_16 layout.
//
// Both writers are atomic: they write a temporary file in the target's
// directory, flush it to disk and rename it over the target, so a failed
// write leaves the old file whole. Every reader validates the whole file
// and names the path and the tensor key in its errors.
package checkpoint
