package layers

import (
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// MergedParams returns the parameters of a plain model (built with Full)
// that computes what the model built on params with l computes: HuggingFace
// PEFT's merge_and_unload. Every parameter but the adapters is copied, and
// the weight W of each module with an adapter becomes W + (alpha/r)·A B in
// this package's (in, out) layout, which is PEFT's W + (alpha/r)·B A in
// PyTorch's (out, in). For QLoRA every base weight the graph read in NF4 is
// dequantised first, so the merged model is full precision (the dtype of
// params) and equals the adapted model as it ran, 4-bit rounding included:
// it does not hold the original full-precision base weights. Build the model
// before merging a QLoRA: its NF4 weights are made while building. params is
// not modified.
func (l *LoRA) MergedParams(params *Params) (*Params, error) {
	if l.NF4 && len(l.quantised) == 0 {
		return nil, errors.New("layers: merging QLoRA: no NF4 base weight has been built; build the model with this LoRA first")
	}
	merged, adapters := NewParams(), NewParams()
	var modules []string
	for _, n := range params.Names() {
		if m, ok := strings.CutSuffix(n, ".lora_A.weight"); ok {
			modules = append(modules, m)
		}
		if strings.HasSuffix(n, ".lora_A.weight") || strings.HasSuffix(n, ".lora_B.weight") {
			if err := adapters.Set(n, params.Get(n)); err != nil {
				return nil, err
			}
			continue
		}
		var v *tensor.Dense
		if q, ok := l.quantised[n]; ok && l.NF4 {
			v = q.Dequantize()
		} else {
			v = params.Get(n).Clone().(*tensor.Dense)
		}
		if err := merged.Set(n, v); err != nil {
			return nil, err
		}
	}
	for _, m := range modules {
		if w := merged.Get(m + ".weight"); w != nil {
			if err := adapters.Set(m+".weight", w); err != nil { // the merged copy, which fold updates
				return nil, err
			}
		}
	}
	full := LoRA{Rank: l.Rank, Alpha: l.Alpha}
	if err := full.fold(adapters, modules, 1); err != nil {
		return nil, err
	}
	return merged, nil
}
