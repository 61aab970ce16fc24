package vtab

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Patches cuts every image of the batch into non-overlapping p×p patches, the tokens
// of a ViT: (B, Size, Size, Channels) → (B, (Size/p)², p·p·Channels). Patches run
// row by row across the image, and each is flattened in (row, column, channel) order,
// the order of the ViT-B/16 checkpoint's patch-embedding kernel (16, 16, 3, 768), so
// that kernel reshaped to (768, 768) embeds the patches with one matrix product. p
// must divide Size.
func (b *Batch) Patches(p int) (*tensor.Dense, error) {
	if p <= 0 || b.Size%p != 0 {
		return nil, errors.Errorf("vtab: patch size %d, expected a divisor of the image size %d", p, b.Size)
	}
	g := b.Size / p                     // patches per side
	out := make([]float32, 0, len(b.X)) // (B, g·g, p·p·Channels)
	for i := range b.Len() {
		img := b.X[i*b.Size*b.Size*Channels : (i+1)*b.Size*b.Size*Channels]
		for py := range g {
			for px := range g {
				for y := py * p; y < (py+1)*p; y++ {
					row := (y*b.Size + px*p) * Channels
					out = append(out, img[row:row+p*Channels]...)
				}
			}
		}
	}
	return tensor.New(tensor.WithShape(b.Len(), g*g, p*p*Channels), tensor.WithBacking(out)), nil
}
