package layers

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

func (LLaMAConfig) ProjectionNames() []string { return LLaMAProjections }

func (LLaMAConfig) ShorthandAliases() map[string]string { return LLaMAAliases }

func (c LLaMAConfig) ProjectionShape(name string) (in, out int) {
	switch name {
	case "gate", "up":
		return c.Hidden, c.Intermediate
	case "down":
		return c.Intermediate, c.Hidden
	}
	return c.Hidden, c.Hidden
}

func (ViTConfig) ProjectionNames() []string { return ViTProjections }

func (ViTConfig) ShorthandAliases() map[string]string { return ViTAliases }

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
