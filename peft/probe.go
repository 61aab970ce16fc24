package peft

import (
	"gorgonia.org/gorgonia"

	"github.com/velora-go/velora/layers"
)

// probe is linear probing: every weight is frozen except the head.
type probe struct{}

func (probe) Linear(b *layers.Builder, s layers.Site, x *gorgonia.Node) (*gorgonia.Node, error) {
	return b.Linear(s, x, nil, false)
}

func (probe) Trains(r layers.Role) bool { return r == layers.RoleHead }

func (probe) Feature(_ *layers.Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) {
	return x, nil
}
