package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCompare runs the quickstart for 80 steps: both losses must fall at least 20-fold
// (measured: plain 0.774 → 3e-5, VeLoRA 0.774 → 0.0065; VeLoRA's coarse weight gradient
// converges more slowly on this regression), VeLoRA's peak must be lower, and the table
// printed.
func TestCompare(t *testing.T) {
	var out bytes.Buffer
	c, err := compare(&out, 80)
	if err != nil {
		t.Fatal(err)
	}
	if !(c.plainLast < c.plainFirst/20 && c.veloraLast < c.veloraFirst/20) {
		t.Errorf("losses plain %v → %v, VeLoRA %v → %v: want both 20 times lower", c.plainFirst, c.plainLast, c.veloraFirst, c.veloraLast)
	}
	if c.veloraPeak >= c.plainPeak {
		t.Errorf("peak VeLoRA %d bytes, plain %d: want VeLoRA lower", c.veloraPeak, c.plainPeak)
	}
	for _, want := range []string{"| step | plain loss | VeLoRA loss |", "| 80 |", "peak of a step"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}
