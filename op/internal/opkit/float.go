package opkit

import "github.com/velora-go/velora/kernel"

// Float is the set of element types the ops compute in: the kernels'.
type Float = kernel.Float

// Groups returns the number of sub-tokens of length m in a row of width d,
// counting a zero-padded last one.
func Groups(d, m int) int { return (d + m - 1) / m }
