package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// WriteAtomic writes the file at path through write: into a temporary file
// in the same directory, flushed to disk, then renamed over path, and the
// directory flushed. On failure the temporary file is removed and whatever
// was at path is left as it was. The file gets mode 0644. An error of write
// is returned as it is; WriteAtomic's own errors start with "checkpoint: ".
func WriteAtomic(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), write)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return check.Wrap(err, "checkpoint: replace file")
	}
	return check.Wrap(syncDir(dir), "checkpoint: sync directory")
}

// writeTemp creates a temporary file in dir, fills it through write and
// returns its name; on failure it removes the file.
func writeTemp(dir, base string, write func(w io.Writer) error) (string, error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return "", check.Wrap(err, "checkpoint: create temporary file")
	}
	if err := fill(f, write); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// fill writes f through a buffer, gives it the mode os.Create would under
// the usual umask, flushes it to disk and closes it.
func fill(f *os.File, write func(w io.Writer) error) error {
	w := bufio.NewWriterSize(f, 1<<20)
	if err := write(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return check.Wrap(err, "checkpoint: write temporary file")
	}
	if err := f.Chmod(0o644); err != nil {
		return check.Wrap(err, "checkpoint: chmod temporary file")
	}
	if err := f.Sync(); err != nil {
		return check.Wrap(err, "checkpoint: sync temporary file")
	}
	return check.Wrap(f.Close(), "checkpoint: close temporary file")
}

// syncDir flushes the directory entry of a renamed file to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// tempName matches the temporary files of WriteAtomic: "." + base + ".tmp" and the
// digits os.CreateTemp puts for "*".
var tempName = regexp.MustCompile(`^\..+\.tmp[0-9]+$`)

// RemoveTemps removes the temporary files WriteAtomic leaves in dir when a process is
// killed while writing, and returns their paths. Call it when a run starts, before
// anything writes into dir. A missing dir holds none.
func RemoveTemps(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, check.Wrap(err, "checkpoint: remove temporary files")
	}
	var removed []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !tempName.MatchString(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil {
			return removed, check.Wrap(err, "checkpoint: remove temporary files")
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// CheckFilePath refuses, before any work, a path that WriteAtomic should not
// write at the end of it: an existing directory, a path whose folder does not
// exist, or an existing file that ours does not recognise as one the program
// wrote (so a mistyped path never replaces a user's file). The error names the
// path and what was expected.
func CheckFilePath(path string, ours func(existing []byte) bool) error {
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		return errors.Errorf("%s is a directory, expected a file's path", path)
	case err == nil && !info.Mode().IsRegular():
		return errors.Errorf("%s is not a regular file, expected a file's path", path)
	case err == nil:
		data, err := readHead(path, maxRecognised)
		if err != nil {
			return err
		}
		if !ours(data) {
			return errors.Errorf("%s exists and is not a file this program wrote: refusing to overwrite it (delete it or give another path)", path)
		}
		return nil
	}
	dir := filepath.Dir(path)
	info, err = os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return errors.Errorf("%s: its folder %s does not exist", path, dir)
	case err != nil:
		return err
	case !info.IsDir():
		return errors.Errorf("%s: %s is a file, expected a folder", path, dir)
	}
	return nil
}

// maxRecognised is how much of an existing file CheckFilePath shows ours.
const maxRecognised = 1 << 20

// readHead returns up to n bytes from the start of the file at path.
func readHead(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// JSONObjectWith is a CheckFilePath recogniser: a JSON object whose first
// key is first (the first field of the struct the program encodes), as far
// as the file's first MiB shows.
func JSONObjectWith(first string) func([]byte) bool {
	return func(data []byte) bool {
		dec := json.NewDecoder(bytes.NewReader(data))
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return false
		}
		t, err := dec.Token()
		return err == nil && t == first
	}
}

// CheckFolderPath refuses, before any work, a folder path that MkdirAll could
// not create at the end of it: one that is a file, or lies under one.
func CheckFolderPath(path string) error {
	for p := path; ; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		switch {
		case err == nil && !info.IsDir() && p == path:
			return errors.Errorf("%s is a file, expected a folder", path)
		case err == nil && !info.IsDir():
			return errors.Errorf("%s: %s is a file, expected a folder", path, p)
		case err == nil:
			return nil
		case !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return err
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}
