// Package check holds the checks of settings that every package with
// settings shares, so that one rule (and one message) holds everywhere, and
// the module's error style with the Wrap that keeps it (see wrap.go).
package check

import (
	"math"

	"github.com/pkg/errors"
)

// Float checks a float setting: it returns nil when x is finite and inRange
// (the caller's test of x) holds, and otherwise an error that names the
// setting and its value and says what was expected, after the caller's
// package prefix:
//
//	check.Float("peft", "lora_alpha", x, x >= 0, "a finite number ≥ 0")
//	// peft: lora_alpha is NaN, expected a finite number ≥ 0
//
// It is the one check of float settings in the module's configurations and
// the examples' flags, so NaN and ±Inf, which pass a test like x < 0, are
// refused everywhere.
func Float(prefix, name string, x float64, inRange bool, want string) error {
	if inRange && !math.IsNaN(x) && !math.IsInf(x, 0) {
		return nil
	}
	return errors.Errorf("%s: %s is %v, expected %s", prefix, name, x, want)
}

// First returns the first non-nil error of errs.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
