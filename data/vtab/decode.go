package vtab

import (
	"image"
	"image/color"
	_ "image/jpeg" // VTAB-1k trees store JPEG
	_ "image/png"  // the embedded suite stores PNG
	"io/fs"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// readRGB decodes the JPEG or PNG image at name (the format is read from the
// content, not the extension) into RGB values in [0, 1]: (H, W, 3). A grey image
// repeats its value in the three channels and an alpha channel is dropped, as PIL's
// convert("RGB") does. It also returns the height and width. Its errors name the
// image (and say so when it is a directory) but carry no package prefix: the caller
// adds the list line.
func readRGB(fsys fs.FS, name string) (pix []float32, h, w int, err error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, 0, pathError("image", name, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, 0, 0, errors.Errorf("image %s is a directory, not an image file", name)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, 0, 0, check.Wrapf(err, "decode image %s", name)
	}
	b := img.Bounds()
	h, w = b.Dy(), b.Dx()
	if h == 0 || w == 0 {
		return nil, 0, 0, errors.Errorf("image %s is empty (%d×%d)", name, w, h)
	}
	return rgb(img), h, w, nil
}

// rgb converts img to (H, W, 3) values in [0, 1], with fast paths for the types the
// decoders return for grey PNGs and JPEGs (*image.Gray) and colour JPEGs
// (*image.YCbCr).
func rgb(img image.Image) []float32 {
	b := img.Bounds()
	pix := make([]float32, 0, b.Dx()*b.Dy()*3)
	switch m := img.(type) {
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for _, v := range m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)] {
				g := float32(v) / 255
				pix = append(pix, g, g, g)
			}
		}
	case *image.YCbCr:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				pix = append(pix, float32(r)/255, float32(g)/255, float32(bl)/255)
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := straight(img.At(x, y))
				pix = append(pix, float32(c.R)/65535, float32(c.G)/65535, float32(c.B)/65535)
			}
		}
	}
	return pix
}

// straight returns c without its alpha: the colour as stored when c is
// non-premultiplied (PNGs with an alpha channel or a transparent palette entry decode
// to those), as converting through the premultiplied form would lose it where alpha
// is small.
func straight(c color.Color) color.NRGBA64 {
	switch c := c.(type) {
	case color.NRGBA:
		return color.NRGBA64{R: uint16(c.R) * 257, G: uint16(c.G) * 257, B: uint16(c.B) * 257}
	case color.NRGBA64:
		return c
	}
	return color.NRGBA64Model.Convert(c).(color.NRGBA64)
}
