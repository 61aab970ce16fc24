package peft

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
)

// The files of a merged model's directory, as HuggingFace transformers'
// save_pretrained names them.
const (
	mergedWeightsFile = "model.safetensors"
	mergedConfigFile  = "config.json"
)

// MergeAndUnload is HuggingFace PEFT's merge_and_unload for the LoRA or
// QLoRA model built on b: it returns the parameters of the plain model
// (built with layers.Full{}) that computes what b's model computes, each
// adapted weight W replaced by W + (alpha/r)·B·A (in PyTorch's (out, in)
// layout; A B in Params' (in, out)) and the adapters left out. For QLoRA
// the base weights are first dequantised from the NF4 values the graph
// read, so the merged model is full precision (b's dtype) and equals the
// adapted model as trained, not its original base plus the update. b.Params
// is not changed. See layers.LoRA.MergedParams.
func MergeAndUnload(b *layers.Builder) (*layers.Params, error) {
	l, err := loraOf(b)
	if err != nil {
		return nil, err
	}
	merged, err := l.MergedParams(b.Params)
	return merged, check.Wrap(err, "peft: merging")
}

// SaveMerged writes the parameters of a plain model of architecture arch,
// such as MergeAndUnload returns, as a model directory in HuggingFace's
// layout: model.safetensors with each parameter under its own name
// ("model.layers.0.self_attn.q_proj.weight", "lm_head.weight" for LLaMA;
// timm's names for a ViT) in PyTorch's layout (layers.ToPyTorch) and the
// metadata {"format": "pt"}; for LLaMA also a config.json that
// transformers' LlamaForCausalLM.from_pretrained and
// layers.LoadLLaMAConfig read. The directory is made when missing and each
// file written atomically. Parameters of an adapter (lora_A, lora_B) are an
// error: merge them first.
func SaveMerged(dir string, params *layers.Params, arch layers.Architecture) error {
	if _, err := architecture(arch); err != nil {
		return err
	}
	names := params.SortedNames()
	if len(names) == 0 {
		return errors.New("peft: saving a merged model: no parameters")
	}
	tensors := make(map[string]*tensor.Dense, len(names))
	for _, n := range names {
		if strings.Contains(n, ".lora_A.") || strings.Contains(n, ".lora_B.") {
			return errors.Errorf("peft: saving a merged model: %q is an adapter's; merge it first (MergeAndUnload)", n)
		}
		v, err := layers.ToPyTorch(arch, n, params.Get(n))
		if err != nil {
			return check.Wrap(err, "peft: saving a merged model")
		}
		tensors[n] = v
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return check.Wrap(err, "peft: saving a merged model")
	}
	if err := removeOwnTemps(dir, mergedWeightsFile, mergedConfigFile); err != nil {
		return err
	}
	if err := checkpoint.Write(filepath.Join(dir, mergedWeightsFile), tensors, map[string]string{"format": "pt"}); err != nil {
		return check.Wrap(err, "peft: saving a merged model")
	}
	c, ok := arch.(layers.LLaMAConfig)
	if !ok {
		return nil
	}
	config, err := llamaConfigJSON(c, tensors[names[0]].Dtype())
	if err != nil {
		return err
	}
	path := filepath.Join(dir, mergedConfigFile)
	err = checkpoint.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(config)
		return err
	})
	return check.Wrapf(err, "peft: writing %s", path)
}

// llamaConfigJSON is a HuggingFace LlamaConfig's config.json for c, whose
// weights are of dtype dt. A zero float field of c stays out: its default
// here is transformers' LlamaConfig default too.
func llamaConfigJSON(c layers.LLaMAConfig, dt tensor.Dtype) ([]byte, error) {
	config := map[string]any{
		"architectures":           []string{"LlamaForCausalLM"},
		"model_type":              "llama",
		"hidden_size":             c.Hidden,
		"intermediate_size":       c.Intermediate,
		"num_attention_heads":     c.Heads,
		"num_key_value_heads":     c.Heads,
		"num_hidden_layers":       c.Layers,
		"vocab_size":              c.Vocab,
		"max_position_embeddings": c.MaxSeq,
		"hidden_act":              "silu",
		"tie_word_embeddings":     false,
		"torch_dtype":             dt.String(),
	}
	for key, x := range map[string]float64{"rms_norm_eps": c.RMSNormEps, "rope_theta": c.RopeTheta, "initializer_range": c.InitializerRange} {
		if x != 0 {
			config[key] = x
		}
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return nil, check.Wrap(err, "peft: config.json")
	}
	return append(data, '\n'), nil
}
