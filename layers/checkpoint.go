package layers

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/internal/check"
)

// PEFTPrefix is the key prefix HuggingFace PEFT gives every parameter of an
// adapted model, as in
// "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight".
const PEFTPrefix = "base_model.model."

// hfLayout reports whether a parameter is a linear weight, stored here as
// (in, out) and in PyTorch as (out, in). Embedding tables are (vocab,
// width) in both.
func hfLayout(name string, shape tensor.Shape) bool {
	return len(shape) == 2 && strings.HasSuffix(name, ".weight") && !strings.HasSuffix(name, "embed_tokens.weight")
}

// SaveSafetensors writes the named parameters (all of them when names is
// nil) to a safetensors file, atomically, with prefix before every key and
// linear weights transposed to PyTorch's (out, in): a LoRA adapter saved
// with PEFTPrefix loads in PyTorch with PEFT.
func SaveSafetensors(path string, params *Params, names []string, prefix string, metadata map[string]string) error {
	if names == nil {
		names = params.SortedNames()
	}
	out := make(map[string]*tensor.Dense, len(names))
	for _, n := range names {
		v := params.Get(n)
		if v == nil {
			return errors.Errorf("layers: saving %s: no parameter %q", path, n)
		}
		if hfLayout(n, v.Shape()) {
			t, err := tensor.Transpose(v)
			if err != nil {
				return check.Wrapf(err, "layers: saving %s: %s", path, n)
			}
			v = t.(*tensor.Dense)
		}
		out[prefix+n] = v
	}
	return check.Wrap(checkpoint.Write(path, out, metadata), "layers")
}

// LoadSafetensors reads a safetensors file into params in dtype dt: every
// key that starts with prefix, the prefix removed and linear weights
// transposed back to (in, out). A key already in params must have its
// shape; every name in required must be in the file. Errors name the file,
// the key and both shapes.
func LoadSafetensors(path string, params *Params, prefix string, dt tensor.Dtype, required []string) error {
	tensors, _, err := checkpoint.Read(path)
	if err != nil {
		return check.Wrap(err, "layers")
	}
	keys := make([]string, 0, len(tensors))
	for k := range tensors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	loaded := map[string]*tensor.Dense{}
	for _, k := range keys {
		name, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		v := tensors[k]
		if hfLayout(name, v.Shape()) {
			t, err := tensor.Transpose(v)
			if err != nil {
				return check.Wrapf(err, "layers: loading %s: key %q", path, k)
			}
			v = t.(*tensor.Dense)
		}
		loaded[name] = v
	}
	for _, r := range required {
		if _, ok := loaded[r]; !ok {
			return errors.Errorf("layers: loading %s: missing key %q", path, prefix+r)
		}
	}
	return setAll(params, loaded, dt, path)
}

// LoadSafetensorsExact reads a safetensors file written by SaveSafetensors
// back into the parameters params already holds, in dtype dt: each of them,
// trainable or frozen, must be in the file under prefix, with its shape, and
// the file may hold no other key under prefix. This is what resuming a
// training run needs: a parameter the file lacks would keep its random
// initial value, and a key the model has no parameter for means the file is
// another model's. Errors name the file and the missing or unknown keys.
func LoadSafetensorsExact(path string, params *Params, prefix string, dt tensor.Dtype) error {
	tensors, _, err := checkpoint.Read(path)
	if err != nil {
		return check.Wrap(err, "layers")
	}
	loaded := map[string]*tensor.Dense{}
	var unknown []string
	for k, v := range tensors {
		name, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if params.Get(name) == nil {
			unknown = append(unknown, k)
			continue
		}
		if hfLayout(name, v.Shape()) {
			t, err := tensor.Transpose(v)
			if err != nil {
				return check.Wrapf(err, "layers: loading %s: key %q", path, k)
			}
			v = t.(*tensor.Dense)
		}
		loaded[name] = v
	}
	var missing []string
	for _, n := range params.Names() {
		if _, ok := loaded[n]; !ok {
			missing = append(missing, prefix+n)
		}
	}
	switch {
	case len(missing) > 0:
		return errors.Errorf("layers: loading %s: it lacks %d of the model's %d parameters: %s", path, len(missing), len(params.Names()), quoteSome(missing))
	case len(unknown) > 0:
		return errors.Errorf("layers: loading %s: %d key(s) the model has no parameter for: %s", path, len(unknown), quoteSome(unknown))
	}
	return setAll(params, loaded, dt, path)
}

// quoteSome lists names, sorted and quoted, the first five of them and
// then how many more.
func quoteSome(names []string) string {
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		if i == 5 {
			fmt.Fprintf(&b, " and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}

// setAll stores loaded values in params, converted to dt, checking the
// shapes of those params already has.
func setAll(params *Params, loaded map[string]*tensor.Dense, dt tensor.Dtype, path string) error {
	names := make([]string, 0, len(loaded))
	for n := range loaded {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v, err := convert(loaded[n], dt)
		if err != nil {
			return check.Wrapf(err, "layers: loading %s: %q", path, n)
		}
		if i, x, bad := firstNonFinite(v); bad {
			return errors.Errorf("layers: loading %s: %q holds %v at index %d, expected finite weights", path, n, x, i)
		}
		if old := params.Get(n); old != nil && !old.Shape().Eq(v.Shape()) {
			return errors.Errorf("layers: loading %s: %q has shape %v in the file, the model expects %v", path, n, v.Shape(), old.Shape())
		}
		if err := params.Set(n, v); err != nil {
			return check.Wrapf(err, "layers: loading %s", path)
		}
	}
	return nil
}

// firstNonFinite returns the first NaN or ±Inf of a float tensor, and its index.
func firstNonFinite(v *tensor.Dense) (int, float64, bool) {
	switch d := v.Data().(type) {
	case []float32:
		for i, x := range d {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return i, f, true
			}
		}
	case []float64:
		for i, x := range d {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return i, x, true
			}
		}
	}
	return 0, 0, false
}

// convert returns a contiguous copy of v in dtype dt.
func convert(v *tensor.Dense, dt tensor.Dtype) (*tensor.Dense, error) {
	out := tensor.New(tensor.Of(dt), tensor.WithShape(v.Shape().Clone()...))
	c := v
	if v.IsMaterializable() {
		c = v.Materialize().(*tensor.Dense)
	}
	switch src := c.Data().(type) {
	case []float64:
		switch dst := out.Data().(type) {
		case []float64:
			copy(dst, src)
		case []float32:
			for i, x := range src {
				dst[i] = float32(x)
			}
		}
	case []float32:
		switch dst := out.Data().(type) {
		case []float64:
			for i, x := range src {
				dst[i] = float64(x)
			}
		case []float32:
			copy(dst, src)
		}
	default:
		return nil, errors.Errorf("dtype %v, expected float32 or float64", v.Dtype())
	}
	return out, nil
}
