package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
)

// zipTime is the modification time of every entry WriteNPZ writes: a fixed
// valid MS-DOS date keeps the output deterministic.
var zipTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// ReadNPZ loads the arrays of the NumPy .npz archive at path (np.savez or
// np.savez_compressed) keyed by their names without ".npy", such as
// "Transformer/encoderblock_0/LayerNorm_0/scale". '<f4' arrays load as
// float32, '<f8' as float64 and '<f2' widened to float32; Fortran-order
// arrays are reordered to C order.
func ReadNPZ(path string) (map[string]*tensor.Dense, error) {
	tensors, err := readNPZ(path)
	if err != nil {
		return nil, check.Wrapf(err, "checkpoint: read npz %s", path)
	}
	return tensors, nil
}

func readNPZ(path string) (map[string]*tensor.Dense, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return decodeNPZ(f, fi.Size())
}

// decodeNPZ reads an .npz archive of size bytes from r. Each entry's sizes are
// checked against the file's before its data is read, so that no header makes it
// allocate more than the file can hold.
func decodeNPZ(r io.ReaderAt, size int64) (map[string]*tensor.Dense, error) {
	z, err := zip.NewReader(r, size)
	if errors.Is(err, zip.ErrFormat) {
		return nil, zipFormatError(r, size, err)
	}
	if err != nil {
		return nil, err
	}
	tensors := make(map[string]*tensor.Dense, len(z.File))
	for _, f := range z.File {
		key, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, errors.Errorf("entry %q, expected a .npy file", f.Name)
		}
		if _, dup := tensors[key]; dup {
			return nil, errors.Errorf("key %q appears twice", key)
		}
		t, err := readNPYEntry(f, size)
		if err != nil {
			return nil, check.Wrapf(err, "key %q", key)
		}
		tensors[key] = t
	}
	return tensors, nil
}

// zipFormatError explains a file that archive/zip refuses with err (zip.ErrFormat,
// kept for errors.Is): empty, or cut short, as an interrupted download or write leaves
// it, when it starts as a zip archive does but lacks the end-of-archive record that
// locates its entries.
func zipFormatError(r io.ReaderAt, size int64, err error) error {
	if size == 0 {
		return check.Wrap(err, "empty file (0 bytes)")
	}
	head := make([]byte, min(size, int64(len(zipEntryMagic))))
	if _, rerr := r.ReadAt(head, 0); rerr != nil || string(head) != zipEntryMagic || hasZipEnd(r, size) {
		return err
	}
	return check.Wrapf(err, "truncated: the file's %d bytes start a zip archive but lack its end, the central "+
		"directory that lists the entries (was the file cut short?)", size)
}

// zipEntryMagic starts a zip archive's first entry; zipEndMagic starts its
// end-of-central-directory record, which lies in the last 22 to 65,557 bytes (22 and a
// comment of up to 65,535).
const (
	zipEntryMagic = "PK\x03\x04"
	zipEndMagic   = "PK\x05\x06"
	zipEndMax     = 22 + 65535
)

// hasZipEnd reports whether a whole end-of-central-directory record, its comment
// included, lies at the end of the file.
func hasZipEnd(r io.ReaderAt, size int64) bool {
	tail := make([]byte, min(size, zipEndMax))
	if _, err := r.ReadAt(tail, size-int64(len(tail))); err != nil {
		return false
	}
	i := bytes.LastIndex(tail, []byte(zipEndMagic))
	return i >= 0 && i+22 <= len(tail) && i+22+int(binary.LittleEndian.Uint16(tail[i+20:])) <= len(tail)
}

// maxDeflateRatio is the most bytes deflate (RFC 1951) can expand one compressed byte
// to: a 258-byte match coded in two bits, one for its length and one for its distance.
const maxDeflateRatio = 1032

// readNPYEntry reads and decodes one .npy entry of an archive of size bytes.
func readNPYEntry(f *zip.File, size int64) (*tensor.Dense, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	n, err := entrySize(f, size)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, n)
	if got, err := io.ReadFull(rc, raw); err != nil {
		return nil, check.Wrapf(err, "entry data ends after %d of its %d bytes", got, n)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil { // the checksum is checked at the end
		return nil, err
	}
	return decodeNPY(raw)
}

// entrySize returns the uncompressed size of an entry that f.Open accepted, after
// checking that its compressed data lies inside the archive's size bytes and can hold
// that many bytes: stored data as they are, deflated data expanded at most
// maxDeflateRatio times.
func entrySize(f *zip.File, size int64) (int, error) {
	off, err := f.DataOffset()
	if err != nil {
		return 0, err
	}
	c, u := f.CompressedSize64, f.UncompressedSize64
	if off < 0 || off > size || c > uint64(size-off) {
		return 0, errors.Errorf("truncated: the entry's %d bytes from byte %d run past the end of the %d-byte file", c, off, size)
	}
	limit, method := c, "stored"
	if f.Method == zip.Deflate {
		limit, method = c*maxDeflateRatio+258, "deflated"
	}
	if u > limit {
		return 0, errors.Errorf("the entry claims %d bytes, more than its %d %s bytes can hold", u, c, method)
	}
	return int(u), nil
}

// WriteNPZ saves tensors at path as np.savez does: an uncompressed zip
// archive with one version 1.0 .npy file per key (float32 as '<f4', float64
// as '<f8', C order), keys sorted. The file is written atomically: a failed
// WriteNPZ leaves whatever was at path.
func WriteNPZ(path string, tensors map[string]*tensor.Dense) error {
	err := WriteAtomic(path, func(w io.Writer) error {
		return writeNPZ(w, tensors)
	})
	return check.Wrapf(err, "checkpoint: write npz %s", path)
}

func writeNPZ(w io.Writer, tensors map[string]*tensor.Dense) error {
	zw := zip.NewWriter(w)
	for _, key := range slices.Sorted(maps.Keys(tensors)) {
		if err := writeNPYEntry(zw, key, tensors[key]); err != nil {
			return check.Wrapf(err, "key %q", key)
		}
	}
	return zw.Close()
}

func writeNPYEntry(zw *zip.Writer, key string, t *tensor.Dense) error {
	raw, err := encodeNPY(t)
	if err != nil {
		return err
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: key + ".npy", Method: zip.Store, Modified: zipTime})
	if err != nil {
		return err
	}
	_, err = w.Write(raw)
	return err
}
