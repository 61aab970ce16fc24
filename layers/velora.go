package layers

import (
	"maps"
	"slices"
	"strings"

	"github.com/pkg/errors"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op"
)

// VeLoRA selects the projections whose trained linear keeps only its
// compressed input for the weight gradient (arXiv 2405.17991). A nil
// *VeLoRA selects nothing.
type VeLoRA struct {
	// Projections are projection names (q, k, v, o, gate, up, down, qkv,
	// proj, fc1, fc2), resolved against a model by Resolve.
	Projections []string
	// SubTokenSize is the default sub-token size M. Zero means 16.
	SubTokenSize int
	// Sizes overrides SubTokenSize per projection name.
	Sizes map[string]int
	// Init names how v is chosen (vinit.Parse); empty means the first-batch
	// mean, the paper's default.
	Init string
	// Scale multiplies the weight gradient (velora_scale). Zero means 1.
	Scale float64
	// ZFormat is how each projection keeps z for the backward pass:
	// op.ZBFloat16 or op.ZFloat16 keep it in 16 bits, half its bytes in a
	// float32 model. Zero, op.ZFull, means the model's dtype.
	ZFormat op.ZFormat
}

// DefaultSubTokenSize is the sub-token size when none is given.
const DefaultSubTokenSize = 16

// Selects reports whether v compresses projection name.
func (v *VeLoRA) Selects(name string) bool {
	if v == nil {
		return false
	}
	for _, p := range v.Projections {
		if p == name {
			return true
		}
	}
	return false
}

// Size is the sub-token size of projection name.
func (v *VeLoRA) Size(name string) int {
	if m, ok := v.Sizes[name]; ok {
		return m
	}
	if v.SubTokenSize == 0 {
		return DefaultSubTokenSize
	}
	return v.SubTokenSize
}

// GradScale is the factor on the compressed weight gradient.
func (v *VeLoRA) GradScale() float64 {
	if v.Scale == 0 {
		return 1
	}
	return v.Scale
}

// projectionOptions are the options of every projection v makes.
func (v *VeLoRA) projectionOptions() []op.ProjectionOption {
	return []op.ProjectionOption{op.WithZFormat(v.ZFormat)}
}

func (v *VeLoRA) strategy() (vinit.Strategy, error) {
	if v.Init == "" {
		return vinit.FirstBatchMean(), nil
	}
	return vinit.Parse(v.Init)
}

// Validate checks the selection against the projection names of a model
// (an Architecture's ProjectionNames): every name exists, sizes are
// positive, the strategy parses, the scale is finite and not negative, the
// z format is one of op's.
func (v *VeLoRA) Validate(available []string) error {
	if v == nil {
		return nil
	}
	for _, p := range v.Projections {
		if !slices.Contains(available, p) {
			return errors.Errorf("layers: velora projection %q, expected one of %s", p, strings.Join(available, ", "))
		}
	}
	if v.SubTokenSize < 0 {
		return errors.Errorf("layers: velora sub-token size %d, expected a positive size (0 means %d)", v.SubTokenSize, DefaultSubTokenSize)
	}
	for _, name := range slices.Sorted(maps.Keys(v.Sizes)) {
		if m := v.Sizes[name]; m <= 0 {
			return errors.Errorf("layers: velora sub-token size %d for %q, expected a positive size", m, name)
		}
		if !slices.Contains(available, name) {
			return errors.Errorf("layers: velora sub-token size given for %q, expected one of %s", name, strings.Join(available, ", "))
		}
	}
	if err := check.Float("layers", "velora_scale", v.Scale, v.Scale >= 0, "a finite number ≥ 0 (0 means 1)"); err != nil {
		return err
	}
	if err := v.ZFormat.Validate(); err != nil {
		return check.Wrap(err, "layers: velora")
	}
	_, err := v.strategy()
	return check.Wrap(err, "layers: velora init")
}

// Resolve turns a selection into a model's projection names. The paper's
// shorthand is a string of the letters q, k, v, d ("vd": value and down);
// otherwise names are separated by commas or spaces ("q, k, v, down").
// aliases maps shorthand letters to the model's names (for ViT every one of
// q, k, v is the merged qkv and d is fc2). Unknown names, and a name or
// letter given twice ("qq"), are an error naming them.
func Resolve(selection string, available []string, aliases map[string]string) ([]string, error) {
	var words []string
	if isShorthand(selection) {
		for _, r := range selection {
			words = append(words, string(r))
		}
	} else {
		words = strings.FieldsFunc(selection, func(r rune) bool { return r == ',' || r == ' ' })
	}
	return ResolveNames(words, available, aliases)
}

// ResolveNames is Resolve for a list of names or shorthand letters.
func ResolveNames(words []string, available []string, aliases map[string]string) ([]string, error) {
	var out []string
	for i, w := range words {
		if slices.Contains(words[:i], w) {
			return nil, errors.Errorf("layers: projection %q named twice, expected each once", w)
		}
		name := w
		if a, ok := aliases[w]; ok {
			name = a
		}
		if !slices.Contains(available, name) {
			return nil, errors.Errorf("layers: projection %q, expected one of %s", w, strings.Join(available, ", "))
		}
		if !slices.Contains(out, name) { // ViT's q, k and v are all one qkv
			out = append(out, name)
		}
	}
	return out, nil
}

func isShorthand(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("qkvd", r) {
			return false
		}
	}
	return true
}
