package opkit

import "gorgonia.org/gorgonia"

// Cheap marks, embedded in an op's struct, an op whose work is in proportion to
// the size of its value and that multiplies no matrices: recomputing its value
// costs little (see op.Cheap).
type Cheap struct{}

func (Cheap) cheap() {}

// IsCheap reports whether o embeds Cheap.
func IsCheap(o gorgonia.Op) bool {
	_, ok := o.(interface{ cheap() })
	return ok
}
