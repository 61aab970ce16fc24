package check

import (
	"math"
	"testing"

	"github.com/pkg/errors"
)

func TestFloatRefusesNaNAndInfinities(t *testing.T) {
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		err := Float("peft", "lora_alpha", x, x >= 0 || x < 0, "a finite number")
		if err == nil {
			t.Fatalf("%v accepted", x)
		}
	}
	if err := Float("peft", "lora_alpha", -1, false, "a finite number ≥ 0"); err == nil || err.Error() != "peft: lora_alpha is -1: expected a finite number ≥ 0" {
		t.Fatalf("got %v", err)
	}
	if err := Float("peft", "lora_alpha", 2, true, "a finite number ≥ 0"); err != nil {
		t.Fatal(err)
	}
}

func TestFirst(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	if First(nil, a, b) != a || First(nil, nil) != nil || First() != nil {
		t.Fatal("First does not return the first error")
	}
}
