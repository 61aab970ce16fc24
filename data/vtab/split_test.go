package vtab

import (
	"image"
	"image/color"
	"io/fs"
	"math/rand"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// realTree writes a small tree in the layout of a real VTAB-1k folder (task svhn,
// known to have 10 classes) with JPEG and PNG images of odd sizes, each of one flat
// colour, plus a 16×16 PNG of random pixels. It returns the tree and each image's
// colour in [0, 1], keyed by path relative to the task folder (nil for the random one).
func realTree(t *testing.T) (fs.FS, map[string][]float32) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	noise := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.Intn(256))
		if i%4 == 3 {
			noise.Pix[i] = 255
		}
	}
	orange := color.NRGBA{R: 204, G: 102, B: 51, A: 255}
	teal := color.NRGBA{R: 10, G: 240, B: 128, A: 200} // alpha is dropped
	greyImg := image.NewGray(image.Rect(0, 0, 50, 31))
	for i := range greyImg.Pix {
		greyImg.Pix[i] = 153
	}
	files := map[string][]byte{
		"svhn/images/train800/000000.jpg": encodeJPEG(t, flat(37, 23, orange)),
		"svhn/images/train800/000001.png": encodePNG(t, greyImg),
		"svhn/images/train800/000002.png": encodePNG(t, flat(13, 64, teal)),
		"svhn/images/val200/000000.jpg":   encodeJPEG(t, flat(300, 200, orange)),
		"svhn/images/test/000000.png":     encodePNG(t, noise),
		"svhn/train800.txt": lines(
			"images/train800/000000.jpg 3",
			"images/train800/000001.png 9",
			"images/train800/000002.png 0",
		),
		"svhn/val200.txt": lines("images/val200/000000.jpg 5"),
		"svhn/train800val200.txt": lines(
			"images/train800/000000.jpg 3",
			"images/train800/000001.png 9",
			"images/train800/000002.png 0",
			"images/val200/000000.jpg 5",
		),
		"svhn/test.txt": lines("images/test/000000.png 1"),
	}
	colours := map[string][]float32{
		"images/train800/000000.jpg": scale255(204, 102, 51),
		"images/train800/000001.png": scale255(153, 153, 153),
		"images/train800/000002.png": scale255(10, 240, 128),
		"images/val200/000000.jpg":   scale255(204, 102, 51),
	}
	return os.DirFS(writeTree(t, files)), colours
}

func TestLoadRealLayout(t *testing.T) {
	fsys, colours := realTree(t)
	for _, c := range []struct {
		name string
		cfg  Config
		norm Normalization
	}{
		{"unit", Config{Size: 16, Norm: Unit}, Unit},
		{"imagenet by default", Config{Size: 16}, ImageNet},
		{"inception", Config{Size: 16, Norm: Inception}, Inception},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Load(fsys, "svhn", Train800Val200, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.Task != "svhn" || s.Name != Train800Val200 || s.Classes != 10 || s.Size != 16 || s.Len() != 4 {
				t.Fatalf("split %s/%s: %d classes, size %d, %d examples; want svhn/train800val200, 10, 16, 4",
					s.Task, s.Name, s.Classes, s.Size, s.Len())
			}
			if want := []int{3, 9, 0, 5}; !reflect.DeepEqual(s.Labels, want) {
				t.Errorf("labels %v, want %v", s.Labels, want)
			}
			if len(s.Images) != 4*16*16*3 {
				t.Fatalf("%d values, want 4·16·16·3", len(s.Images))
			}
			for i, p := range s.Paths {
				want := make([]float32, 0, 16*16*3)
				for range 16 * 16 {
					for ch, v := range colours[p] {
						want = append(want, (v-c.norm.Mean[ch])/c.norm.Std[ch])
					}
				}
				// 3/255 for the JPEGs (quantisation and 4:2:0 chroma of a flat
				// colour), scaled by the std; the PNGs are exact to rounding.
				tol := 1e-5 / float64(c.norm.Std[0])
				if p[len(p)-3:] == "jpg" {
					tol = 3.0 / 255 / float64(c.norm.Std[2])
				}
				if d := maxDiff(t, s.Image(i), want); d > tol {
					t.Errorf("%s: max difference %g > %g", p, d, tol)
				}
			}
		})
	}
	t.Run("native size is kept exactly", func(t *testing.T) {
		s, err := Load(fsys, "svhn", Test, Config{Size: 16, Norm: Unit})
		if err != nil {
			t.Fatal(err)
		}
		want, _, _, err := readRGB(fsys, "svhn/images/test/000000.png")
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(t, s.Image(0), want); d != 0 {
			t.Errorf("max difference %g, want 0", d)
		}
	})
	t.Run("limit", func(t *testing.T) {
		s, err := Load(fsys, "svhn", Train800, Config{Size: 8, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != 2 || len(s.Images) != 2*8*8*3 || !reflect.DeepEqual(s.Paths, []string{"images/train800/000000.jpg", "images/train800/000001.png"}) {
			t.Errorf("limit 2: %d examples, %d values, paths %v", s.Len(), len(s.Images), s.Paths)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	png := encodePNG(t, flat(5, 7, color.NRGBA{A: 255}))
	jpg := encodeJPEG(t, flat(5, 7, color.NRGBA{A: 255}))
	root := writeTree(t, map[string][]byte{
		"svhn/images/a.png":       png,
		"svhn/images/text.jpg":    []byte("GIF89a is not supported either"),
		"svhn/images/cut.jpg":     jpg[:len(jpg)/2],
		"svhn/images/dir.jpg/a":   png,
		"svhn/train800val200.txt": lines("images/a.png 0"),
		"svhn/no_image.txt":       lines("images/a.png 0", "images/b.png 1"),
		"svhn/malformed.txt":      lines("images/a.png 0", "images/a.png 1", "images/a.png"),
		"svhn/range.txt":          lines("images/a.png 9", "images/a.png 10"),
		"svhn/text.txt":           lines("images/text.jpg 0"),
		"svhn/cut.txt":            lines("images/a.png 0", "images/cut.jpg 0"),
		"svhn/dir.txt":            lines("images/a.png 0", "images/dir.jpg 1"),
		"svhn/late.txt":           lines("images/a.png 0", "images/a.png x"),
		"svhn/empty.txt":          {},
		"svhn/blank.txt":          []byte("\n \n\t\n"),
		"mine/images/a.png":       png,
		"mine/train800val200.txt": lines("images/a.png 2"),
		"mine/test.txt":           lines("images/a.png 3"),
	})
	fsys := os.DirFS(root)
	for _, c := range []struct {
		name, task, split string
		cfg               Config
		msg               string // the whole message, or its start when the file is missing (the cause's words depend on the fs.FS)
		notExist          bool
	}{
		{"missing list", "svhn", "val200", Config{}, "vtab: list file svhn/val200.txt: ", true},
		{"missing image", "svhn", "no_image", Config{}, "vtab: svhn/no_image.txt:2: image svhn/images/b.png: ", true},
		{"malformed line", "svhn", "malformed", Config{}, `vtab: svhn/malformed.txt:3: line "images/a.png", expected "<image path> <label>"`, false},
		{"label out of range", "svhn", "range", Config{}, "vtab: svhn/range.txt:2: label 10 out of range [0, 10) of task svhn (class count from VTAB-1k's table)", false},
		{"not an image", "svhn", "text", Config{}, "vtab: svhn/text.txt:1: decode image svhn/images/text.jpg: image: unknown format", false},
		{"truncated image", "svhn", "cut", Config{}, "vtab: svhn/cut.txt:2: decode image svhn/images/cut.jpg: unexpected EOF", false},
		{"directory", "svhn", "dir", Config{}, "vtab: svhn/dir.txt:2: image svhn/images/dir.jpg is a directory, not an image file", false},
		{"bad line past the limit", "svhn", "late", Config{Limit: 1}, `vtab: svhn/late.txt:2: label "x", expected an integer ≥ 0`, false},
		{"empty list", "svhn", "empty", Config{}, "vtab: list file svhn/empty.txt holds no images", false},
		{"blank list", "svhn", "blank", Config{}, "vtab: list file svhn/blank.txt holds no images", false},
		{"missing task folder", "nope", Test, Config{}, "vtab: task folder nope: ", true},
		{"negative size", "svhn", Train800Val200, Config{Size: -1}, "vtab: image size -1, expected a size ≥ 0 (0 means 224)", false},
		{"negative limit", "svhn", Train800Val200, Config{Limit: -2}, "vtab: limit -2, expected a count ≥ 0 (0 loads every example)", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(fsys, c.task, c.split, c.cfg)
			if err == nil || err.Error() != c.msg && !(c.notExist && strings.HasPrefix(err.Error(), c.msg)) {
				t.Fatalf("error %v\nwant  %s", err, c.msg)
			}
			if errors.Is(err, fs.ErrNotExist) != c.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", !c.notExist, c.notExist)
			}
		})
	}

}

// TestLoadClassCount checks where Load takes a task's class count from: VTAB-1k's
// table, classes.txt beside the lists, or Config.Classes, never the labels, so that a
// typo in a label (99 in a 10-class folder) is an error naming the list and line
// instead of a 100-class head.
func TestLoadClassCount(t *testing.T) {
	png := encodePNG(t, flat(5, 7, color.NRGBA{A: 255}))
	list := lines("images/a.png 0", "images/a.png 2", "images/a.png 1")
	typo := lines("images/a.png 0", "images/a.png 99", "images/a.png 1")
	fsys := os.DirFS(writeTree(t, map[string][]byte{
		"svhn/images/a.png":        png,
		"svhn/train800val200.txt":  typo,
		"mine/images/a.png":        png,
		"mine/train800val200.txt":  list,
		"mine/typo.txt":            typo,
		"mine/classes.txt":         []byte("cat\r\n\n  dog  \nhorse"), // blank lines and spaces do not count
		"bare/images/a.png":        png,
		"bare/train800val200.txt":  list,
		"dup/train800val200.txt":   list,
		"dup/classes.txt":          lines("cat", "dog", "cat"),
		"none/train800val200.txt":  list,
		"none/classes.txt":         []byte("\n \n"),
		"kitti/images/a.png":       png,
		"kitti/train800val200.txt": list,
		"kitti/classes.txt":        lines("0-8 m", "8-20 m", "20-40 m", "over 40 m"),
		"cifar/train800val200.txt": list,
		"cifar/classes.txt":        lines("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
	}))
	for _, c := range []struct {
		name, task, split string
		classes           int
		want              int    // the class count, when msg is empty
		msg               string // the error
	}{
		{"from classes.txt", "mine", Train800Val200, 0, 3, ""},
		{"Config.Classes agrees with classes.txt", "mine", Train800Val200, 3, 3, ""},
		{"from Config.Classes", "bare", Train800Val200, 5, 5, ""},
		{"classes.txt agrees with VTAB-1k", "kitti", Train800Val200, 0, 4, ""},
		{"typo in a label, classes.txt", "mine", "typo", 0, 0,
			"vtab: mine/typo.txt:2: label 99 out of range [0, 3) of task mine (class count from mine/classes.txt)"},
		{"typo in a label, VTAB-1k's table", "svhn", Train800Val200, 0, 0,
			"vtab: svhn/train800val200.txt:2: label 99 out of range [0, 10) of task svhn (class count from VTAB-1k's table)"},
		{"typo in a label, Config.Classes", "bare", Train800Val200, 2, 0,
			"vtab: bare/train800val200.txt:2: label 2 out of range [0, 2) of task bare (class count from Config.Classes)"},
		{"no class count", "bare", Train800Val200, 0, 0,
			"vtab: task bare has no class count: it is not a VTAB-1k task and has no bare/classes.txt; " +
				"write the names of its classes there, one per line in label order, or give the count (Config.Classes, the example's -classes)"},
		{"Config.Classes disagrees", "mine", Train800Val200, 4, 0, "vtab: task mine: class count 4 (Config.Classes, the example's -classes), but mine/classes.txt gives 3"},
		{"Config.Classes disagrees with VTAB-1k", "svhn", Train800Val200, 100, 0, "vtab: task svhn: class count 100 (Config.Classes, the example's -classes), but VTAB-1k's table gives 10"},
		{"classes.txt disagrees with VTAB-1k", "cifar", Train800Val200, 0, 0,
			"vtab: cifar/classes.txt names 10 classes, but cifar has 100 in VTAB-1k: a folder that holds another data set needs a name of its own"},
		{"duplicate class", "dup", Train800Val200, 0, 0, `vtab: dup/classes.txt:3: class "cat" is already on line 1`},
		{"no class in classes.txt", "none", Train800Val200, 0, 0, "vtab: none/classes.txt names no class, expected one class name per line"},
		{"negative Config.Classes", "mine", Train800Val200, -1, 0, "vtab: class count -1, expected a count ≥ 0 (0 takes the task's)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Load(fsys, c.task, c.split, Config{Size: 4, Classes: c.classes})
			switch {
			case c.msg == "" && err != nil:
				t.Fatal(err)
			case c.msg == "" && s.Classes != c.want:
				t.Errorf("%d classes, want %d", s.Classes, c.want)
			case c.msg != "" && (err == nil || err.Error() != c.msg):
				t.Errorf("error %v\nwant  %s", err, c.msg)
			}
		})
	}
}
