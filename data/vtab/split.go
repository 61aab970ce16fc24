package vtab

import (
	"io/fs"
	"path"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pkg/errors"
)

// Channels is the number of channels of every loaded image: R, G, B.
const Channels = 3

// Split is one list of a task with all its images in memory, decoded, resized and
// normalised.
type Split struct {
	Task    string // task folder
	Name    string // list file name without ".txt", e.g. Train800Val200
	Classes int    // labels run from 0 to Classes-1
	Size    int    // image height and width
	// Images holds the images one after another, each (Size, Size, Channels) row by
	// row: channel c of pixel (y, x) of image i is at ((i·Size + y)·Size + x)·Channels + c.
	Images []float32 // (N, Size, Size, Channels)
	Labels []int     // (N)
	Paths  []string  // (N) image paths from the list, cleaned, relative to the task folder
}

// Len is the number of examples.
func (s *Split) Len() int { return len(s.Labels) }

// Image returns image i, (Size, Size, Channels); it shares memory with Images.
func (s *Split) Image(i int) []float32 {
	n := s.Size * s.Size * Channels
	return s.Images[i*n : (i+1)*n]
}

// Load reads the list <task>/<split>.txt of the tree fsys and every image it names,
// eagerly: the whole split is decoded, resized to cfg.Size and normalised before Load
// returns, on as many goroutines as GOMAXPROCS. It takes Size²·12 bytes per image:
// 0.6 MB at 224, so about 600 MB for train800val200; cfg.Limit bounds it on large test
// splits.
//
// For a real tree, pass os.DirFS(root); for the embedded suite, Default(). Errors name
// the file, and the list line where there is one: a missing list file or image, a
// malformed line, a list with no image, a label outside [0, classes) of the task (see Tasks for where the
// class count comes from), a directory where an image should be, an image that is
// not a JPEG or PNG.
func Load(fsys fs.FS, task, split string, cfg Config) (*Split, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	classes, from, err := classCount(fsys, task, cfg.Classes)
	if err != nil {
		return nil, err
	}
	entries, err := readList(fsys, task, split)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errors.Errorf("vtab: list file %s holds no images", listPath(task, split))
	}
	for _, e := range entries {
		if e.label >= classes {
			return nil, errors.Errorf("vtab: %s:%d: label %d out of range [0, %d) of task %s (class count from %s)",
				listPath(task, split), e.line, e.label, classes, task, from)
		}
	}
	if cfg.Limit > 0 && cfg.Limit < len(entries) {
		entries = entries[:cfg.Limit]
	}
	s := &Split{
		Task:    task,
		Name:    split,
		Classes: classes,
		Size:    cfg.Size,
		Images:  make([]float32, len(entries)*cfg.Size*cfg.Size*Channels),
		Labels:  make([]int, len(entries)),
		Paths:   make([]string, len(entries)),
	}
	for i, e := range entries {
		s.Labels[i], s.Paths[i] = e.label, e.path
	}
	err = parallel(len(entries), func(i int) error {
		e := entries[i]
		pix, h, w, err := readRGB(fsys, path.Join(task, e.path))
		if err != nil {
			return errors.WithMessagef(err, "vtab: %s:%d", listPath(task, split), e.line)
		}
		dst := s.Image(i)
		resize(dst, pix, h, w, cfg.Size)
		cfg.Norm.apply(dst)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// parallel calls f(i) for i in [0, n) on GOMAXPROCS goroutines and returns the
// error of the smallest i that failed, so that the error does not depend on timing.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				errs[i] = f(i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
