package vtab

import (
	"image"
	"image/color"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/pkg/errors"
)

func TestReadRGB(t *testing.T) {
	// A 3×2 grey image with levels 0, 51, ..., 255.
	g := image.NewGray(image.Rect(0, 0, 3, 2))
	copy(g.Pix, []uint8{0, 51, 102, 153, 204, 255})
	wantGrey := grey(scale255(0, 51, 102, 153, 204, 255))

	// Two pixels whose alpha PIL's convert("RGB") drops: the colour stays.
	a := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	a.SetNRGBA(0, 0, color.NRGBA{R: 255, G: 102, B: 0, A: 0})
	a.SetNRGBA(1, 0, color.NRGBA{R: 51, G: 153, B: 204, A: 128})
	wantAlpha := scale255(255, 102, 0, 51, 153, 204)

	// A palette with a transparent entry: the PNG decoder gives color.NRGBA entries.
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{R: 255, A: 255}, color.NRGBA{G: 51, B: 255}})
	pal.Pix[1] = 1
	wantPal := []float32{1, 0, 0, 0, 0.2, 1}

	// 16 bits per channel with alpha decodes to *image.NRGBA64.
	a16 := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	a16.SetNRGBA64(0, 0, color.NRGBA64{R: 65535, G: 13107, B: 0, A: 1})
	want16 := []float32{1, 0.2, 0}

	// A flat grey JPEG decodes to *image.YCbCr with Cb = Cr = 128, so R = G = B = Y.
	jpegGrey := flat(16, 8, color.NRGBA{R: 153, G: 153, B: 153, A: 255})
	wantJPEG := make([]float32, 16*8*3)
	for i := range wantJPEG {
		wantJPEG[i] = 153.0 / 255
	}

	fsys := fstest.MapFS{
		"grey.png":        {Data: encodePNG(t, g)},
		"grey.jpg":        {Data: encodeJPEG(t, g)},
		"alpha.png":       {Data: encodePNG(t, a)},
		"palette.png":     {Data: encodePNG(t, pal)},
		"alpha16.png":     {Data: encodePNG(t, a16)},
		"flat.jpg":        {Data: encodeJPEG(t, jpegGrey)},
		"png-named.jpg":   {Data: encodePNG(t, g)},
		"text.jpg":        {Data: []byte("not an image")},
		"truncated.png":   {Data: encodePNG(t, g)[:40]},
		"folder/note.txt": {Data: []byte("x")},
	}
	for _, c := range []struct {
		name string
		h, w int
		want []float32
		tol  float64
	}{
		{"grey.png", 2, 3, wantGrey, 0},
		{"png-named.jpg", 2, 3, wantGrey, 0}, // the content decides, not the extension
		{"alpha.png", 1, 2, wantAlpha, 0},
		{"palette.png", 1, 2, wantPal, 0},
		{"alpha16.png", 1, 1, want16, 0},
		{"flat.jpg", 8, 16, wantJPEG, 1.0 / 255}, // a flat block survives JPEG within one level
		{"grey.jpg", 2, 3, wantGrey, 12.0 / 255}, // a sharp grey ramp loses a little more
	} {
		t.Run(c.name, func(t *testing.T) {
			got, h, w, err := readRGB(fsys, c.name)
			if err != nil {
				t.Fatal(err)
			}
			if h != c.h || w != c.w {
				t.Fatalf("size %d×%d, want %d×%d", h, w, c.h, c.w)
			}
			if d := maxDiff(t, got, c.want); d > c.tol {
				t.Errorf("max difference %g > %g\ngot %v", d, c.tol, got)
			}
		})
	}
	for _, c := range []struct{ name, msg string }{
		{"missing.png", "image missing.png: file does not exist"},
		{"text.jpg", "decode image text.jpg: image: unknown format"},
		{"truncated.png", "decode image truncated.png"},
		{"folder", "image folder is a directory, not an image file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, _, err := readRGB(fsys, c.name)
			errorHas(t, err, c.msg)
		})
	}
	_, _, _, err := readRGB(fsys, "missing.png")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing image: %v is not fs.ErrNotExist", err)
	}
}
