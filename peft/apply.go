package peft

import (
	"maps"
	"slices"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/op"
)

// Apply turns a Config into the adapter a model is built with, after
// checking it against the model's architecture:
//
//	adapter, err := peft.Apply(cfg, llamaConfig)
//	b, err := layers.NewBuilder(params, tensor.Float32, adapter, seed)
//	model, err := layers.NewLLaMA(b, llamaConfig, batch, seq)
//	summary := peft.Summarize(b)
func Apply(c Config, arch layers.Architecture) (layers.Adapter, error) {
	r, err := c.resolve(arch)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case MethodFull:
		return layers.Full{VeLoRA: r.velora}, nil
	case MethodLinearProbe:
		return probe{}, nil
	case MethodLoRA, MethodQLoRA:
		return &layers.LoRA{Rank: r.Rank, Alpha: r.Alpha, Dropout: r.Dropout, Targets: r.Targets,
			NF4: r.Method == MethodQLoRA, Trained: r.roles, VeLoRA: r.velora, Seed: r.Seed}, nil
	case MethodSSF:
		return &ssfAdapter{trained: r.roles, velora: r.velora}, nil
	}
	return &hydraAdapter{rank: r.Rank, scale: r.Scale, dropout: r.Dropout, trained: r.roles, velora: r.velora, seed: r.Seed, sites: hydraSites(arch)}, nil
}

// resolved is a Config with defaults filled, names resolved against the
// architecture and VeLoRA's sizes computed.
type resolved struct {
	Config
	roles  []layers.Role
	velora *layers.VeLoRA
}

func (c Config) resolve(arch layers.Architecture) (resolved, error) {
	if arch == nil {
		return resolved{}, errors.New("peft: model config is nil, expected one such as a layers.LLaMAConfig")
	}
	if m, ok := arch.(interface{ Validate() error }); ok {
		if err := m.Validate(); err != nil {
			return resolved{}, check.Wrap(err, "peft: model config")
		}
	}
	c = c.withDefaults(arch)
	r := resolved{Config: c}
	if !slices.Contains(methods, c.Method) {
		return r, errors.Errorf("peft: method %q, expected one of %s", c.Method, strings.Join(methods, ", "))
	}
	if c.Rank < 0 {
		return r, errors.Errorf("peft: rank %d, expected a positive rank (0 means 8)", c.Rank)
	}
	for _, err := range []error{
		check.Float("peft", "lora_alpha", c.Alpha, c.Alpha >= 0, "a finite number ≥ 0 (0 means 8)"),
		check.Float("peft", "lora_dropout", c.Dropout, c.Dropout >= 0 && c.Dropout < 1, "a value in [0, 1)"),
		check.Float("peft", "scale", c.Scale, c.Scale >= 0, "a finite number ≥ 0 (0 means 1)"),
	} {
		if err != nil {
			return r, err
		}
	}
	var err error
	if r.Targets, err = resolveTargets(c, arch); err != nil {
		return r, err
	}
	if r.roles, err = resolveRoles(c); err != nil {
		return r, err
	}
	r.velora, err = resolveVeLoRA(c, arch, r.Targets)
	return r, err
}

// adapted lists the projections a method adds trainable weights to.
func adapted(c Config, arch layers.Architecture, targets []string) []string {
	switch c.Method {
	case MethodFull, MethodSSF:
		return arch.ProjectionNames()
	case MethodHydra:
		return hydraSites(arch)
	case MethodLoRA, MethodQLoRA:
		return targets
	}
	return nil
}

// resolveTargets resolves LoRA's targets and checks the rank against the
// smaller width of each adapted projection.
func resolveTargets(c Config, arch layers.Architecture) ([]string, error) {
	targets, err := layers.ResolveNames(expandShorthand(c.Targets), arch.ProjectionNames(), arch.ShorthandAliases())
	if err != nil {
		return nil, check.Wrap(err, "peft: target_modules")
	}
	if c.Method == MethodLoRA || c.Method == MethodQLoRA || c.Method == MethodHydra {
		for _, p := range adapted(c, arch, targets) {
			if in, out := arch.ProjectionShape(p); c.Rank > min(in, out) {
				return nil, errors.Errorf("peft: rank %d is above the width of projection %q (%d → %d)", c.Rank, p, in, out)
			}
		}
	}
	return targets, nil
}

// expandShorthand splits shorthand strings ("qv") into letters.
func expandShorthand(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "" && strings.Trim(n, "qkvd") == "" && len(n) > 1 {
			for _, r := range n {
				out = append(out, string(r))
			}
			continue
		}
		out = append(out, n)
	}
	return out
}

func resolveRoles(c Config) ([]layers.Role, error) {
	var roles []layers.Role
	for _, m := range c.ModulesToSave {
		role, ok := roleNames[m]
		if !ok {
			return nil, errors.Errorf("peft: modules_to_save %q, expected one of %s", m, strings.Join(slices.Sorted(maps.Keys(roleNames)), ", "))
		}
		roles = append(roles, role)
	}
	return roles, nil
}

// resolveVeLoRA checks VeLoRA's selection against what the method trains
// and computes the sub-token sizes.
func resolveVeLoRA(c Config, arch layers.Architecture, targets []string) (*layers.VeLoRA, error) {
	v := c.VeLoRA
	if v == nil {
		return nil, nil
	}
	if c.Method == MethodLinearProbe {
		return nil, errors.New("peft: velora with linear-probe: the method trains no linear layer whose input VeLoRA could compress")
	}
	if err := check.Float("peft", "velora_scale", v.Scale, v.Scale >= 0, "a finite number ≥ 0 (0 means 1)"); err != nil {
		return nil, err
	}
	names, err := layers.Resolve(veloraLayers(v.Layers, c.Method, arch, targets), arch.ProjectionNames(), arch.ShorthandAliases())
	if err != nil {
		return nil, check.Wrap(err, "peft: velora_layers")
	}
	if len(names) == 0 {
		return nil, errors.Errorf("peft: velora_layers %q selects no projection (empty means the method's default)", v.Layers)
	}
	trainable := adapted(c, arch, targets)
	for _, n := range names {
		if !slices.Contains(trainable, n) {
			return nil, errors.Errorf("peft: velora_layers selects %q, but method %s trains no linear there (it adapts %s)", n, c.Method, strings.Join(trainable, ", "))
		}
	}
	zFormat, err := op.ParseZFormat(v.ZDtype)
	if err != nil {
		return nil, errors.Errorf(`peft: z_dtype %q, expected "" (the model's dtype), "bf16" or "fp16"`, v.ZDtype)
	}
	out := &layers.VeLoRA{Projections: names, SubTokenSize: v.SubTokenSize, Sizes: map[string]int{}, Init: v.Init, Scale: v.Scale, ZFormat: zFormat}
	if v.SubTokenSize < 0 {
		return nil, errors.Errorf("peft: sub_token_size %d, expected a positive size (0 means %d)", v.SubTokenSize, layers.DefaultSubTokenSize)
	}
	if len(v.NumGroups) > 0 && len(v.NumGroups) != len(names) {
		return nil, errors.Errorf("peft: num_groups has %d entries for the %d projections %v", len(v.NumGroups), len(names), names)
	}
	for i, g := range v.NumGroups {
		if g <= 0 {
			return nil, errors.Errorf("peft: num_groups[%d] = %d, expected a positive count", i, g)
		}
		width := compressedWidth(c.Method, arch, names[i])
		out.Sizes[names[i]] = (width + g - 1) / g
	}
	for name, m := range v.SubTokenSizes {
		resolvedName, err := layers.ResolveNames([]string{name}, arch.ProjectionNames(), arch.ShorthandAliases())
		if err != nil {
			return nil, check.Wrap(err, "peft: sub_token_sizes")
		}
		if m <= 0 {
			return nil, errors.Errorf("peft: sub_token_sizes[%q] = %d, expected a positive size", name, m)
		}
		out.Sizes[resolvedName[0]] = m
	}
	return out, check.Wrap(out.Validate(arch.ProjectionNames()), "peft")
}

// veloraLayers is the selection, or the method's default: for LoRA and
// QLoRA the projections of "vd" that have adapters, or every target when
// none of them has.
func veloraLayers(layersSel, method string, arch layers.Architecture, targets []string) string {
	if layersSel != "" {
		return layersSel
	}
	_, vit := arch.(layers.ViTConfig)
	switch {
	case method == MethodSSF && vit:
		return "qkv, fc1"
	case method == MethodHydra:
		return strings.Join(hydraSites(arch), ", ")
	case method == MethodLoRA || method == MethodQLoRA:
		vd, _ := layers.Resolve("vd", arch.ProjectionNames(), arch.ShorthandAliases()) // "vd" names every model's projections
		var adapted []string
		for _, p := range vd {
			if slices.Contains(targets, p) {
				adapted = append(adapted, p)
			}
		}
		if len(adapted) == 0 {
			adapted = targets
		}
		return strings.Join(adapted, ", ")
	}
	return "vd"
}

// compressedWidth is the width of the tensor VeLoRA compresses for a
// projection: its output for SSF (the scale-shift after it), its input
// otherwise.
func compressedWidth(method string, arch layers.Architecture, name string) int {
	in, out := arch.ProjectionShape(name)
	if method == MethodSSF {
		return out
	}
	return in
}
