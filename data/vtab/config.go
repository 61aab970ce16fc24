package vtab

import (
	"math"

	"github.com/pkg/errors"
)

// DefaultSize is the image height and width of ViT-B/16, which every VTAB-1k
// baseline resizes to.
const DefaultSize = 224

// Normalization is the per-channel map applied to pixels after they are scaled to
// [0, 1]: out = (x - Mean[c]) / Std[c], channels in R, G, B order (torchvision's
// Normalize after ToTensor). The zero value stands for ImageNet.
type Normalization struct {
	Mean, Std [3]float32 // per channel, R, G, B
}

var (
	// ImageNet is torchvision's ImageNet mean and std, which NOAH, FacT and Hydra use on
	// VTAB-1k; the VeLoRA paper most likely did too.
	ImageNet = Normalization{Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}}
	// Inception maps [0, 1] to [-1, 1], as SSF does (timm's IMAGENET_INCEPTION mean and
	// std, from the ViT-B/16 in21k model card).
	Inception = Normalization{Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5}}
	// Unit leaves pixels in [0, 1].
	Unit = Normalization{Std: [3]float32{1, 1, 1}}
)

// Config says how Load prepares images. Its zero value is the VTAB-1k protocol of
// FacT and Hydra: 224×224, ImageNet normalisation, every example of the list.
type Config struct {
	// Size is the height and width every image is resized to (bicubic, ignoring the
	// aspect ratio). Zero means DefaultSize (224).
	Size int
	// Norm normalises the resized pixels. The zero value means ImageNet.
	Norm Normalization
	// Limit, when positive, loads only the first Limit examples of the list (after
	// checking every line), for quick runs on large test splits. Zero loads them all.
	Limit int
	// Classes, when positive, is the task's class count: every label must lie in
	// [0, Classes). It must agree with the count of a task VTAB-1k defines and with the
	// task's ClassesFile where there is one. Zero takes the count from those, and a
	// task that has neither is an error.
	Classes int
}

// Validate reports a negative Size, Limit or Classes, and a Norm with a non-finite value or a
// zero std (only the all-zero Normalization, which means ImageNet, may have one).
func (c Config) Validate() error {
	if c.Size < 0 {
		return errors.Errorf("vtab: image size %d, expected a size ≥ 0 (0 means %d)", c.Size, DefaultSize)
	}
	if c.Limit < 0 {
		return errors.Errorf("vtab: limit %d, expected a count ≥ 0 (0 loads every example)", c.Limit)
	}
	if c.Classes < 0 {
		return errors.Errorf("vtab: class count %d, expected a count ≥ 0 (0 takes the task's)", c.Classes)
	}
	if c.Norm == (Normalization{}) {
		return nil
	}
	for ch := range 3 {
		m, s := float64(c.Norm.Mean[ch]), float64(c.Norm.Std[ch])
		if math.IsNaN(m) || math.IsInf(m, 0) || math.IsNaN(s) || math.IsInf(s, 0) || s == 0 {
			return errors.Errorf("vtab: normalization of channel %d: mean %v, std %v, expected finite values and a non-zero std", ch, m, s)
		}
	}
	return nil
}

// withDefaults returns c with its zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Norm == (Normalization{}) {
		c.Norm = ImageNet
	}
	return c
}

// apply normalises (…, 3) pixels in place.
func (n Normalization) apply(pix []float32) {
	for i := range pix {
		c := i % 3
		pix[i] = (pix[i] - n.Mean[c]) / n.Std[c]
	}
}
