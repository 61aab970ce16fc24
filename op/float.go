package op

// float is the set of element types the ops compute in.
type float interface {
	float32 | float64
}

// groups returns the number of sub-tokens of length m in a row of width d,
// counting a zero-padded last one.
func groups(d, m int) int { return (d + m - 1) / m }
