package c4

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDirFindsSplitInIndexOrder(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"c4-train.00002-of-01024.json.gz", "c4-train.00000-of-01024.json.gz",
		"c4-validation.00000-of-00008.json.gz", "c4-train.00001-of-01024.json", // not gzip-named
		"README.md", "c4-train.1-of-2.json.gz", // index not five digits
	} {
		writeFile(t, dir, name, nil)
	}
	if err := os.Mkdir(filepath.Join(dir, "c4-train.00003-of-01024.json.gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Dir(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "c4-train.00000-of-01024.json.gz"), filepath.Join(dir, "c4-train.00002-of-01024.json.gz")}
	if got.FS != nil || !reflect.DeepEqual(got.Paths, want) {
		t.Errorf("Dir(train) = %+v, want paths %v", got, want)
	}
	val, err := Dir(dir, "validation")
	if err != nil || len(val.Paths) != 1 {
		t.Errorf("Dir(validation) = %v, %v, want one shard", val, err)
	}
}

func TestDirErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "c4-validation.00000-of-00008.json.gz", nil)
	folder := t.TempDir() // a folder named like a shard is not one
	if err := os.Mkdir(filepath.Join(folder, "c4-train.00000-of-00001.json.gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ dir, split, want string }{
		{dir, "train", "c4: no shards c4-train.NNNNN-of-NNNNN.json.gz in " + dir},
		{folder, "train", "c4: no shards c4-train.NNNNN-of-NNNNN.json.gz in " + folder + ": c4-train.00000-of-00001.json.gz is a folder, expected a gzip file"},
		{filepath.Join(dir, "missing"), "train", "c4: shard directory " + filepath.Join(dir, "missing")},
	}
	for _, c := range cases {
		if _, err := Dir(c.dir, c.split); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Dir(%s, %s): %v, want %s...", c.dir, c.split, err, c.want)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "b.json.gz", nil)
	b := writeFile(t, dir, "a.json.gz", nil)
	got, err := Files(a, b)
	if err != nil || !reflect.DeepEqual(got.Paths, []string{a, b}) {
		t.Errorf("Files(%s, %s) = %v, %v: want them in the given order", a, b, got, err)
	}
	if _, err := Files(); err == nil || err.Error() != "c4: no shard files given" {
		t.Errorf("Files(): %v, want c4: no shard files given", err)
	}
	missing := filepath.Join(dir, "missing.json.gz")
	if _, err := Files(a, missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Files with a missing file: %v, want an error naming %s", err, missing)
	}
}
