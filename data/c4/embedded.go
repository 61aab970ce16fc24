package c4

import (
	"embed"

	"github.com/pkg/errors"
)

// corpus holds the default data set: the Brown corpus in C4's shard format, one train
// and one validation shard (embedded/README.md says where it comes from).
//
//go:embed embedded
var corpus embed.FS

// Default returns the embedded corpus's shards of a split, "train" or "validation", so
// a program runs with no data files: 500 texts of edited American English from 1961
// (the Brown corpus), 31 of them held out for validation.
func Default(split string) (Shards, error) {
	if split != "train" && split != "validation" {
		return Shards{}, errors.Errorf("c4: the embedded corpus has no split %q, expected train or validation", split)
	}
	return fsDir(corpus, "embedded", split)
}
