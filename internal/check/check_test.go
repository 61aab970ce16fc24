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
	if err := Float("peft", "lora_alpha", -1, false, "a finite number ≥ 0"); err == nil || err.Error() != "peft: lora_alpha is -1, expected a finite number ≥ 0" {
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

// TestWrapKeepsOnePrefixInFront: Wrap puts its context, prefix included, in
// front of the inner message without the inner package prefixes, and keeps the
// cause.
func TestWrapKeepsOnePrefixInFront(t *testing.T) {
	inner := errors.New("layers: projection \"x\" is not one of q, k")
	for _, c := range []struct {
		err  error
		want string
	}{
		{Wrap(inner, "peft: velora_layers"), `peft: velora_layers: projection "x" is not one of q, k`},
		{Wrapf(inner, "peft: %s", "target_modules"), `peft: target_modules: projection "x" is not one of q, k`},
		{Wrap(Wrapf(inner, "key %q", "v"), "peft: config.json"), `peft: config.json: key "v": projection "x" is not one of q, k`},
		{Wrap(errors.New("layers: op: width 3"), "peft"), "peft: width 3"},
		{Wrap(errors.New("open x: no such file"), "c4: shard"), "c4: shard: open x: no such file"},
		{Wrap(errors.New("layersx: y"), "peft"), "peft: layersx: y"},
	} {
		if c.err.Error() != c.want {
			t.Errorf("got %q, expected %q", c.err, c.want)
		}
	}
	if err := Wrap(inner, "peft"); errors.Cause(err) != inner || !errors.Is(err, inner) {
		t.Errorf("the cause of %v is %v, expected the inner error", err, errors.Cause(err))
	}
	if Wrap(nil, "peft") != nil || Wrapf(nil, "peft %d", 1) != nil {
		t.Error("Wrap(nil) is not nil")
	}
}
