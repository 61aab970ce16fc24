package c4

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// writeFile writes data to name in dir and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// gzipped compresses text the way a shard is compressed.
func gzipped(t *testing.T, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	if _, err := gz.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ungzip decompresses data.
func ungzip(t *testing.T, data []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// testShards writes n train shards of docs documents each, c4-train.0000i-of-0000n,
// whose texts name their shard and place ("s1d04 ..."), padded to different lengths so
// that rows are truncated, padded and packed across documents.
func testShards(t *testing.T, n, docs int) Shards {
	t.Helper()
	dir := t.TempDir()
	paths := make([]string, n)
	for s := range n {
		var buf bytes.Buffer
		for d := range docs {
			fmt.Fprintf(&buf, `{"text":"s%dd%02d %s","timestamp":"2019-04-25T12:57:54Z","url":"https://example.com/%d/%d"}`+"\n",
				s, d, bytes.Repeat([]byte("x"), (7*d+3*s)%23), s, d)
		}
		paths[s] = writeFile(t, dir, fmt.Sprintf("c4-train.%05d-of-%05d.json.gz", s, n), gzipped(t, buf.String()))
	}
	return Shards{Paths: paths}
}

// readAll reads every document of a shard.
func readAll(t *testing.T, shards Shards, path string) []Document {
	t.Helper()
	r, err := openShard(shards.FS, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var docs []Document
	for {
		d, err := r.Next()
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
}
