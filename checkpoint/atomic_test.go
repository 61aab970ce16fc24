package checkpoint

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// A write that fails half-way, or a rename that fails after the temporary
// file is complete, keeps what was at path and removes the temporary file.
func TestWriteAtomicFailures(t *testing.T) {
	failing := func(w io.Writer) error {
		if _, err := w.Write([]byte("partial new content")); err != nil {
			return err
		}
		return errors.New("disk on fire")
	}
	path := writeFile(t, "model.bin", []byte("old"))
	checkError(t, WriteAtomic(path, failing), "disk on fire")
	checkUntouched(t, path, "old")

	// A non-empty directory at path cannot be replaced by a file.
	dir := filepath.Join(t.TempDir(), "model.bin")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeNew := func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }
	if err := os.WriteFile(filepath.Join(dir, "inside"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkError(t, WriteAtomic(dir, writeNew), "checkpoint: replace file")
	checkUntouched(t, filepath.Join(dir, "inside"), "old")
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil || len(entries) != 1 {
		t.Errorf("parent holds %v (%v), want only the directory", entries, err)
	}

	checkError(t, WriteAtomic(filepath.Join(t.TempDir(), "missing", "model.bin"), writeNew),
		"checkpoint: create temporary file", "no such file")
}

func TestWriteAtomicReplaces(t *testing.T) {
	path := writeFile(t, "model.bin", []byte("old content, longer than the new"))
	err := WriteAtomic(path, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err })
	if err != nil {
		t.Fatal(err)
	}
	checkUntouched(t, path, "new")
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want 0644", info.Mode(), err)
	}
}

// TestRemoveTemps leaves a temporary file the way a kill during WriteAtomic does (made
// by the same os.CreateTemp pattern) and checks that RemoveTemps removes it and
// nothing else.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	keep := []string{"params-000010.safetensors", "state.json", ".hidden", "notes.tmp1"}
	for _, name := range keep {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.CreateTemp(dir, ".params-000020.safetensors.tmp*") // writeTemp's pattern
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	removed, err := RemoveTemps(dir)
	if err != nil || len(removed) != 1 || removed[0] != f.Name() {
		t.Errorf("RemoveTemps: %v, %v, want [%s]", removed, err, f.Name())
	}
	left, _ := os.ReadDir(dir)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if len(names) != len(keep) {
		t.Errorf("left %v, want %v", names, keep)
	}
	if removed, err := RemoveTemps(filepath.Join(dir, "missing")); err != nil || removed != nil {
		t.Errorf("missing dir: %v, %v, want none", removed, err)
	}
}

func TestCheckFilePath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{dir, "is a directory, expected a file's path"},
		{filepath.Join(dir, "missing", "r.json"), "missing does not exist"},
		{filepath.Join(file, "r.json"), "is a file, expected a folder"},
	} {
		if err := CheckFilePath(c.path, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, expected one saying %q", c.path, err, c.want)
		}
	}
	for _, ok := range []string{file, filepath.Join(dir, "new.json")} {
		if err := CheckFilePath(ok, func([]byte) bool { return true }); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestCheckFolderPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{file, filepath.Join(file, "charts")} {
		if err := CheckFolderPath(bad); err == nil || !strings.Contains(err.Error(), "is a file, expected a folder") {
			t.Errorf("%s: error %v", bad, err)
		}
	}
	for _, ok := range []string{dir, filepath.Join(dir, "new", "charts")} {
		if err := CheckFolderPath(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestCheckFilePathKeepsForeignFiles: an existing file is replaced only when
// the recogniser knows it as the program's own (a review's -json /etc/passwd
// replaced the system's user list).
func TestCheckFilePathKeepsForeignFiles(t *testing.T) {
	dir := t.TempDir()
	ours := filepath.Join(dir, "ours.json")
	theirs := filepath.Join(dir, "theirs.json")
	for path, data := range map[string]string{ours: "{\n \"ablate\": \"\",\n \"config\": {}}\n", theirs: "root:x:0:0:root:/root:/bin/bash\n"} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	recognise := JSONObjectWith("ablate")
	if err := CheckFilePath(ours, recognise); err != nil {
		t.Errorf("the program's own file: %v", err)
	}
	for _, path := range []string{theirs} {
		if err := CheckFilePath(path, recognise); err == nil || !strings.Contains(err.Error(), "is not a file this program wrote: refusing to overwrite it") {
			t.Errorf("%s: %v", path, err)
		}
	}
	if err := CheckFilePath(ours, JSONObjectWith("CPU")); err == nil {
		t.Error("a JSON object with another first key was taken for the program's")
	}
}
