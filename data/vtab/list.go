package vtab

import (
	"bufio"
	"bytes"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// The four lists of a VTAB-1k task folder, each in <task>/<split>.txt. The protocol
// trains on Train800Val200 and reports accuracy on Test; Train800 and Val200 serve
// hyper-parameter search.
const (
	Train800       = "train800"
	Val200         = "val200"
	Train800Val200 = "train800val200"
	Test           = "test"
)

// entry is one line of a list file.
type entry struct {
	path  string // image path relative to the task folder
	label int
	line  int // 1-based line number in the list file
}

// listPath is the path of a split's list file inside the tree.
func listPath(task, split string) string { return path.Join(task, split+".txt") }

// readList parses the list file of a split: one "<image path> <label>" per line,
// separated by white space, blank lines skipped. The image path, cleaned, must lie
// inside the task folder and the label must be a non-negative integer.
func readList(fsys fs.FS, task, split string) ([]entry, error) {
	name := listPath(task, split)
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, errors.WithMessage(pathError("list file", name, err), "vtab")
	}
	var entries []entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 1
	for ; sc.Scan(); n++ {
		text := sc.Text()
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, errors.Errorf("vtab: %s:%d: line %q, expected \"<image path> <label>\"", name, n, text)
		}
		img := path.Clean(fields[0])
		if !fs.ValidPath(img) || img == "." {
			return nil, errors.Errorf("vtab: %s:%d: image path %q, expected a file inside the task folder", name, n, fields[0])
		}
		label, err := strconv.Atoi(fields[1])
		if err != nil || label < 0 {
			return nil, errors.Errorf("vtab: %s:%d: label %q, expected an integer ≥ 0", name, n, fields[1])
		}
		entries = append(entries, entry{path: img, label: label, line: n})
	}
	if err := sc.Err(); err == bufio.ErrTooLong {
		return nil, errors.Errorf("vtab: %s:%d: line longer than %d bytes, not \"<image path> <label>\"", name, n, bufio.MaxScanTokenSize)
	} else if err != nil {
		return nil, check.Wrapf(err, "vtab: %s", name)
	}
	return entries, nil
}

// pathError says which file failed, as "<what> <name>: <cause>", with no package
// prefix (the caller adds it). It drops the *fs.PathError wrapper, whose message would
// repeat the path, but keeps its cause for errors.Is.
func pathError(what, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return check.Wrapf(err, "%s %s", what, name)
}
