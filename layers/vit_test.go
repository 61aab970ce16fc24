package layers

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var tinyViT = ViTConfig{ImageSize: 4, PatchSize: 2, Channels: 2, Hidden: 8, Layers: 2, Heads: 2, MLP: 12, Classes: 3}

// imageBatch is a deterministic batch whose label is the brightest
// quadrant's index mod 3.
func imageBatch(c ViTConfig, batch int) ([]float64, []int) {
	rng := rand.New(rand.NewSource(9))
	images := make([]float64, batch*c.ImageSize*c.ImageSize*c.Channels)
	for i := range images {
		images[i] = rng.NormFloat64()
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.Intn(c.Classes)
	}
	return images, labels
}

func TestViTGradientsMatchFiniteDifferences(t *testing.T) {
	b, err := NewBuilder(nil, tensor.Float64, Full{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewViT(b, tinyViT, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetBatch(imageBatch(tinyViT, 3)); err != nil {
		t.Fatal(err)
	}
	checkGradientsByFiniteDifferences(t, newTrainer(t, b, m.Loss))
}

func TestViTLossFallsOnAFixedBatch(t *testing.T) {
	for _, v := range []*VeLoRA{nil, {Projections: []string{"qkv", "fc2"}, SubTokenSize: 4}} {
		b, err := NewBuilder(nil, tensor.Float32, Full{VeLoRA: v}, 1)
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewViT(b, tinyViT, 8)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.SetBatch(imageBatch(tinyViT, 8)); err != nil {
			t.Fatal(err)
		}
		tr := newTrainer(t, b, m.Loss)
		solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.01))
		first := tr.run(t)
		var last float64
		for step := 0; step < 50; step++ {
			last = tr.run(t)
			if err := solver.Step(tr.m.ValueGrads(tr.params)); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("velora %v: loss %.6f → %.6f, %d projections", v, first, last, len(b.Projections()))
		if !(last < 0.5*first) {
			t.Errorf("velora %v: loss %g after 50 steps, started at %g: expected it to halve", v, last, first)
		}
	}
}

func TestPatchifyOrder(t *testing.T) {
	// One 4×4 image with 1 channel whose pixel value is its row-major index:
	// the first 2×2 patch is pixels 0, 1, 4, 5; the second 2, 3, 6, 7.
	img := make([]float64, 16)
	for i := range img {
		img[i] = float64(i)
	}
	got := Patchify(img, 1, 4, 1, 2)
	want := []float64{0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("patches %v, want %v", got, want)
		}
	}
}

func TestSetPatchesEqualsSetBatch(t *testing.T) {
	images, labels := imageBatch(tinyViT, 2)
	var got [2][]float32
	for i := range got {
		b, err := NewBuilder(nil, tensor.Float32, Full{}, 1)
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewViT(b, tinyViT, 2)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			err = m.SetBatch(images, labels)
		} else {
			patches := Patchify(images, 2, tinyViT.ImageSize, tinyViT.Channels, tinyViT.PatchSize)
			p32 := make([]float32, len(patches))
			for j, x := range patches {
				p32[j] = float32(x)
			}
			err = m.SetPatches(p32, labels)
		}
		if err != nil {
			t.Fatal(err)
		}
		got[i] = append([]float32(nil), m.Images.Value().Data().([]float32)...)
	}
	for j := range got[0] {
		if got[0][j] != got[1][j] {
			t.Fatalf("patch value %d: SetBatch %v, SetPatches %v", j, got[0][j], got[1][j])
		}
	}
	m, _ := NewViT(func() *Builder { b, _ := NewBuilder(nil, tensor.Float32, Full{}, 1); return b }(), tinyViT, 2)
	if err := m.SetPatches(make([]float32, 3), labels); err == nil {
		t.Error("a short patch slice was accepted")
	}
	if err := m.SetPatches(make([]float32, 2*tinyViT.Patches()*tinyViT.PatchDim()), []int{0, 7}); err == nil {
		t.Error("label 7 of 3 classes was accepted")
	}
}
