package layers

import (
	"math"

	"gorgonia.org/gorgonia"
)

// sqrt5 is the slope with which PyTorch's nn.Linear and LoRA's A draw
// their Kaiming-uniform initial weights.
var sqrt5 = math.Sqrt(5)

// Site is one projection of a model: x (N, In) → (N, Out).
type Site struct {
	Module string // HuggingFace module path, e.g. "model.layers.0.self_attn.q_proj"
	Name   string // projection name: q, k, v, o, gate, up, down (LLaMA); qkv, proj, fc1, fc2 (ViT)
	In     int    // input width
	Out    int    // output width
	Bias   bool   // whether the projection has a bias
}

// Role says what a parameter outside the projections is for; the adapter
// decides which roles train.
type Role int

const (
	RoleEmbedding Role = iota // token embedding, patch embedding
	RoleNorm                  // norm weights and biases
	RolePosition              // position embedding and class token
	RoleHead                  // LM head or classifier head
)

// Adapter decides how a model is trained: how each projection is built and
// which other parameters train. Full trains everything; LoRA freezes the
// base weights and adds adapters; package peft adds the others.
type Adapter interface {
	// Linear builds projection s on x.
	Linear(b *Builder, s Site, x *gorgonia.Node) (*gorgonia.Node, error)
	// Trains reports whether parameters of role r train.
	Trains(r Role) bool
	// Feature transforms the output of a norm or an embedding named module
	// (SSF scales and shifts it); it returns x unchanged otherwise.
	Feature(b *Builder, module string, x *gorgonia.Node) (*gorgonia.Node, error)
}

// Full is full-rank training: every parameter trains. With VeLoRA set, the
// selected projections keep their compressed input for the weight gradient.
type Full struct {
	VeLoRA *VeLoRA // the projections that keep a compressed input; nil is none
}

// Linear builds projection s on x with a trainable weight (and bias).
func (f Full) Linear(b *Builder, s Site, x *gorgonia.Node) (*gorgonia.Node, error) {
	return b.Linear(s, x, f.VeLoRA, true)
}

// Trains reports true: every parameter trains.
func (Full) Trains(Role) bool { return true }

// Validate checks VeLoRA's selection against a model's projection names.
func (f Full) Validate(available []string) error { return f.VeLoRA.Validate(available) }

// validateAdapter checks an adapter that can check itself (Full, LoRA) against
// a model's projection names, before the model is built.
func validateAdapter(a Adapter, available []string) error {
	if v, ok := a.(interface{ Validate([]string) error }); ok {
		return v.Validate(available)
	}
	return nil
}

// Feature returns x unchanged.
func (Full) Feature(_ *Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) { return x, nil }
