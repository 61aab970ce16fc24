package peft

import "github.com/velora-go/velora/layers"

// CheckFloat checks a float setting: it returns nil when x is finite and inRange (the
// caller's test of x) holds, and otherwise an error that names the setting and its
// value and says what was expected, after the caller's package prefix:
//
//	CheckFloat("peft", "lora_alpha", x, x >= 0, "a finite number ≥ 0")
//	// peft: lora_alpha is NaN: expected a finite number ≥ 0
//
// It is the one check of float settings in peft and in the examples' flags, so NaN
// and ±Inf, which pass a test like x < 0, are refused everywhere. It is
// layers.CheckFloat, which the layers' own configurations use too.
func CheckFloat(prefix, name string, x float64, inRange bool, want string) error {
	return layers.CheckFloat(prefix, name, x, inRange, want)
}
