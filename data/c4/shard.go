package c4

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// shardReader streams the documents of one shard, a gzip-compressed file of JSON lines,
// one line at a time: memory use does not grow with the shard. Blank lines are skipped.
type shardReader struct {
	path string
	file io.Closer
	gz   *gzip.Reader
	buf  *bufio.Reader
	line int // lines read so far
}

// openShard opens a shard on the operating system's file system, or in fsys when it is
// not nil. The caller must Close the reader.
func openShard(fsys fs.FS, path string) (*shardReader, error) {
	var f io.ReadCloser
	var err error
	if fsys == nil {
		f, err = os.Open(path)
	} else {
		f, err = fsys.Open(path)
	}
	if err != nil {
		return nil, check.Wrap(err, "c4")
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, check.Wrapf(err, "c4: %s: not a gzip file", path)
	}
	return &shardReader{path: path, file: f, gz: gz, buf: bufio.NewReaderSize(gz, 1<<16)}, nil
}

// Next returns the next document, or io.EOF after the last one. Other errors name the
// file and the line: a truncated or corrupt gzip stream, a line that is not a JSON
// object, a line without a "text" string.
func (r *shardReader) Next() (Document, error) {
	for {
		b, err := r.readLine()
		if err != nil {
			return Document{}, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		d, err := parseDocument(b)
		if err != nil {
			return Document{}, check.Wrapf(err, "c4: %s: line %d", r.path, r.line)
		}
		return d, nil
	}
}

// Line returns the number of lines read so far: after Next, the 1-based line number of
// the document it returned.
func (r *shardReader) Line() int { return r.line }

// Path returns the shard's path as it was opened.
func (r *shardReader) Path() string { return r.path }

// atEOF reports whether the shard has no more bytes. A read error is not the end: the
// next read reports it.
func (r *shardReader) atEOF() bool {
	_, err := r.buf.Peek(1)
	return err == io.EOF
}

// skipLines reads n lines without decoding them, so a stream can resume inside a shard.
func (r *shardReader) skipLines(n int) error {
	for range n {
		if _, err := r.readLine(); err != nil {
			if err == io.EOF {
				return errors.Errorf("c4: %s: has %d lines, expected at least %d to skip to line %d", r.path, r.line, n+1, n+1)
			}
			return err
		}
	}
	return nil
}

// maxLineBytes bounds a shard's line, far above any document of C4's: a
// stream without newlines must not be read into memory whole. A variable so
// that a test can lower it.
var maxLineBytes = 64 << 20

// readLine returns the next line without its newline, io.EOF at the end of the shard,
// or an error naming the file and the line where the gzip stream broke.
func (r *shardReader) readLine() ([]byte, error) {
	var b []byte
	var err error
	for {
		var part []byte
		part, err = r.buf.ReadSlice('\n')
		b = append(b, part...)
		if err != bufio.ErrBufferFull {
			break
		}
		if len(b) > maxLineBytes {
			return nil, errors.Errorf("c4: %s: line %d is longer than %d bytes, expected one JSON document per line", r.path, r.line+1, maxLineBytes)
		}
	}
	if err != nil && err != io.EOF {
		where := fmt.Sprintf("line %d", r.line+1)
		if len(b) == 0 {
			where = fmt.Sprintf("after line %d", r.line)
		}
		if err == io.ErrUnexpectedEOF {
			return nil, errors.Errorf("c4: %s: %s: gzip data is truncated", r.path, where)
		}
		return nil, check.Wrapf(err, "c4: %s: %s: corrupt gzip data", r.path, where)
	}
	if err == io.EOF && len(b) == 0 {
		return nil, io.EOF
	}
	r.line++
	return bytes.TrimSuffix(b, []byte{'\n'}), nil
}

// Close closes the shard file.
func (r *shardReader) Close() error {
	r.gz.Close()
	return r.file.Close()
}
