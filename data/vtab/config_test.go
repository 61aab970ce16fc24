package vtab

import (
	"math"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		name string
		cfg  Config
		msg  string // "" for a valid configuration
	}{
		{"zero value", Config{}, ""},
		{"everything set", Config{Size: 32, Norm: Inception, Limit: 5}, ""},
		{"zero mean", Config{Norm: Unit}, ""},
		{"negative size", Config{Size: -8}, "vtab: image size -8, expected a size ≥ 0 (0 means 224)"},
		{"negative limit", Config{Limit: -1}, "vtab: limit -1, expected a count ≥ 0 (0 loads every example)"},
		{"zero std", Config{Norm: Normalization{Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{1, 0, 1}}},
			"vtab: normalization of channel 1: mean 0.5, std 0, expected finite values and a non-zero std"},
		{"mean only", Config{Norm: Normalization{Mean: [3]float32{0.5, 0.5, 0.5}}},
			"vtab: normalization of channel 0: mean 0.5, std 0, expected finite values and a non-zero std"},
		{"NaN mean", Config{Norm: Normalization{Mean: [3]float32{0, 0, nan}, Std: [3]float32{1, 1, 1}}},
			"vtab: normalization of channel 2: mean NaN, std 1, expected finite values and a non-zero std"},
		{"infinite std", Config{Norm: Normalization{Std: [3]float32{float32(math.Inf(1)), 1, 1}}},
			"vtab: normalization of channel 0: mean 0, std +Inf, expected finite values and a non-zero std"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			switch {
			case c.msg == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case c.msg != "" && (err == nil || err.Error() != c.msg):
				t.Errorf("error %v\nwant  %s", err, c.msg)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	got := Config{}.withDefaults()
	if got.Size != 224 || got.Norm != ImageNet || got.Limit != 0 {
		t.Errorf("zero Config becomes %+v, want size 224, ImageNet, no limit", got)
	}
	set := Config{Size: 32, Norm: Unit, Limit: 3}
	if got := set.withDefaults(); got != set {
		t.Errorf("%+v becomes %+v", set, got)
	}
}

func TestNormalizationApply(t *testing.T) {
	pix := []float32{0, 0.5, 1, 1, 0.5, 0}
	ImageNet.apply(pix)
	// (x - mean) / std per channel, written out.
	want := []float32{
		(0 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (1 - 0.406) / 0.225,
		(1 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (0 - 0.406) / 0.225,
	}
	if d := maxDiff(t, pix, want); d > 1e-6 {
		t.Errorf("got %v, want %v", pix, want)
	}
}
