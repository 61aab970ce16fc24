package layers

import (
	"maps"
	"slices"
)

// Architecture is what an adapter needs to know of a model before it is
// built: its projection names, the shorthand letters for them, and each
// projection's shape. LLaMAConfig and ViTConfig implement it.
type Architecture interface {
	// ProjectionNames lists the projections of one block.
	ProjectionNames() []string
	// ShorthandAliases maps the paper's letters (q, k, v, d) to projections.
	ShorthandAliases() map[string]string
	// ProjectionShape returns a projection's input and output widths.
	ProjectionShape(name string) (in, out int)
}

// ProjectionNames returns a copy of the projection names of a LLaMA decoder
// layer: q, k, v, o, gate, up, down.
func (LLaMAConfig) ProjectionNames() []string { return slices.Clone(llamaProjections) }

// ShorthandAliases returns a copy of the map from the paper's shorthand
// letters to LLaMA's projections: d is down (q, k, v are LLaMA's own names).
func (LLaMAConfig) ShorthandAliases() map[string]string { return maps.Clone(llamaAliases) }

// ProjectionShape returns a LLaMA projection's input and output widths.
func (c LLaMAConfig) ProjectionShape(name string) (in, out int) {
	switch name {
	case "gate", "up":
		return c.Hidden, c.Intermediate
	case "down":
		return c.Intermediate, c.Hidden
	}
	return c.Hidden, c.Hidden
}

// ProjectionNames returns a copy of the projection names of a ViT encoder
// block: qkv, proj, fc1, fc2.
func (ViTConfig) ProjectionNames() []string { return slices.Clone(vitProjections) }

// ShorthandAliases returns a copy of the map from the paper's shorthand
// letters to ViT's projections: q, k and v all read the merged qkv
// projection's input, d is the MLP's fc2.
func (ViTConfig) ShorthandAliases() map[string]string { return maps.Clone(vitAliases) }

// ProjectionShape returns a ViT projection's input and output widths.
func (c ViTConfig) ProjectionShape(name string) (in, out int) {
	switch name {
	case "qkv":
		return c.Hidden, 3 * c.Hidden
	case "fc1":
		return c.Hidden, c.MLP
	case "fc2":
		return c.MLP, c.Hidden
	}
	return c.Hidden, c.Hidden
}

var (
	_ Architecture = LLaMAConfig{}
	_ Architecture = ViTConfig{}
)
