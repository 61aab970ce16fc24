package layers

import (
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
)

// Params holds a model's parameter values by name, outside any graph, so
// one set of weights can be built into several graphs (a training step, an
// evaluation pass) and saved or loaded. Names follow the HuggingFace
// checkpoints of each model (for example
// "model.layers.0.self_attn.q_proj.weight"); a linear weight is stored
// (in, out), the transpose of PyTorch's (out, in), so that a layer is x @ w.
type Params struct {
	values map[string]*tensor.Dense
	order  []string
}

// NewParams returns an empty set.
func NewParams() *Params { return &Params{values: map[string]*tensor.Dense{}} }

// Get returns the value named name, or nil.
func (p *Params) Get(name string) *tensor.Dense { return p.values[name] }

// Set stores value under name. An existing value must have the same shape
// and dtype; its data is overwritten in place, so graphs built on it see
// the new values.
func (p *Params) Set(name string, value *tensor.Dense) error {
	old, ok := p.values[name]
	if !ok {
		p.values[name] = value
		p.order = append(p.order, name)
		return nil
	}
	if !old.Shape().Eq(value.Shape()) || old.Dtype() != value.Dtype() {
		return errors.Errorf("layers: parameter %q set to %v %v, expected %v %v like its value", name, value.Dtype(), value.Shape(), old.Dtype(), old.Shape())
	}
	return check.Wrapf(tensor.Copy(old, value), "layers: parameter %q", name)
}

// Delete removes name (for example a LoRA adapter after merging).
func (p *Params) Delete(name string) {
	if _, ok := p.values[name]; !ok {
		return
	}
	delete(p.values, name)
	for i, n := range p.order {
		if n == name {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
}

// Names lists the parameters in the order they were added.
func (p *Params) Names() []string { return append([]string(nil), p.order...) }

// SortedNames lists the parameters in lexical order.
func (p *Params) SortedNames() []string {
	names := p.Names()
	sort.Strings(names)
	return names
}

// Count is the number of scalar parameters.
func (p *Params) Count() int {
	n := 0
	for _, v := range p.values {
		n += v.Shape().TotalSize()
	}
	return n
}

// Bytes is the memory the values hold.
func (p *Params) Bytes() int {
	n := 0
	for _, v := range p.values {
		n += v.Shape().TotalSize() * int(v.Dtype().Size())
	}
	return n
}
