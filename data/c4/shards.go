package c4

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// Shards is an ordered list of shard files and the file system that holds them.
type Shards struct {
	// FS holds the files; nil means the operating system's file system.
	FS fs.FS
	// Paths are the shard files in their natural order.
	Paths []string
}

// shardName matches C4's file names, c4-{split}.{index:05d}-of-{count:05d}.json.gz.
var shardName = regexp.MustCompile(`^c4-([a-z]+)\.\d{5}-of-\d{5}\.json\.gz$`)

// Dir returns the shards of one split ("train" or "validation") in a directory laid out
// like the allenai/c4 repository's en/ folder: the files named
// c4-{split}.{index}-of-{count}.json.gz, in index order. Other files are ignored; finding
// no shard of the split is an error. A directory may hold only some of the shards of a
// split (the first few of C4's 1024, say).
func Dir(dir, split string) (Shards, error) {
	names, err := splitNames(os.DirFS(dir), ".", dir, split)
	if err != nil {
		return Shards{}, err
	}
	for i, n := range names {
		names[i] = filepath.Join(dir, n)
	}
	return Shards{Paths: names}, nil
}

// Files returns the given shard files, in the given order, on the operating system's file
// system. Each must exist; their names need not follow C4's pattern. An empty list is an
// error.
func Files(paths ...string) (Shards, error) {
	if len(paths) == 0 {
		return Shards{}, errors.New("c4: no shard files given")
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return Shards{}, check.Wrap(err, "c4: shard")
		}
	}
	return Shards{Paths: append([]string(nil), paths...)}, nil
}

// fsDir is Dir for a directory in a file system: the embedded corpus uses it.
func fsDir(fsys fs.FS, dir, split string) (Shards, error) {
	names, err := splitNames(fsys, dir, dir, split)
	if err != nil {
		return Shards{}, err
	}
	for i, n := range names {
		names[i] = path.Join(dir, n)
	}
	return Shards{FS: fsys, Paths: names}, nil
}

// splitNames returns the names of the split's shards in the directory dir of fsys,
// sorted by index; shown is the directory's name for error messages.
func splitNames(fsys fs.FS, dir, shown, split string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, check.Wrapf(err, "c4: shard directory %s", shown)
	}
	var names, folders []string
	for _, e := range entries {
		if m := shardName.FindStringSubmatch(e.Name()); m != nil && m[1] == split {
			if e.IsDir() {
				folders = append(folders, e.Name())
			} else {
				names = append(names, e.Name())
			}
		}
	}
	if len(names) == 0 && len(folders) > 0 {
		return nil, errors.Errorf("c4: no shards c4-%s.NNNNN-of-NNNNN.json.gz in %s: %s is a folder, expected a gzip file", split, shown, folders[0])
	}
	if len(names) == 0 {
		return nil, errors.Errorf("c4: no shards c4-%s.NNNNN-of-NNNNN.json.gz in %s", split, shown)
	}
	// The index has a fixed width of five digits, so the names sort like the indices.
	sort.Strings(names)
	return names, nil
}
