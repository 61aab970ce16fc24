package c4

import (
	"compress/gzip"
	"encoding/json"
	"io"

	"github.com/velora-go/velora/internal/check"
)

// WriteShard writes documents to w in C4's shard format: one JSON object per line, the
// whole gzip-compressed. The output depends only on docs (the gzip header carries no
// time), so a corpus made twice is the same byte for byte.
func WriteShard(w io.Writer, docs []Document) error {
	gz := gzip.NewWriter(w)
	enc := json.NewEncoder(gz)
	enc.SetEscapeHTML(false)
	for i, d := range docs {
		if err := enc.Encode(d); err != nil {
			return check.Wrapf(err, "c4: writing document %d", i)
		}
	}
	return check.Wrap(gz.Close(), "c4: writing shard")
}
