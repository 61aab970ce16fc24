package checkpoint

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
)

// metadataKey is the header entry that holds the string-to-string metadata.
const metadataKey = "__metadata__"

// tensorInfo is one tensor's entry in a safetensors header.
type tensorInfo struct {
	Dtype       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// span is a validated header entry: where a tensor's bytes lie in the data
// buffer and how to decode them.
type span struct {
	name       string
	kind       *elemKind
	shape      []int
	begin, end int64
}

// Write saves tensors and metadata (nil or empty for none) at path in the
// safetensors format: float32 tensors as F32, float64 as F64, in row-major
// order, keys sorted, the header padded with spaces to a multiple of 8 bytes.
// The file is written atomically: a failed Write leaves whatever was at path.
func Write(path string, tensors map[string]*tensor.Dense, metadata map[string]string) error {
	err := WriteAtomic(path, func(w io.Writer) error {
		return writeSafetensors(w, tensors, metadata)
	})
	return check.Wrapf(err, "checkpoint: write safetensors %s", path)
}

func writeSafetensors(w io.Writer, tensors map[string]*tensor.Dense, metadata map[string]string) error {
	names := slices.Sorted(maps.Keys(tensors))
	header, err := safetensorsHeader(names, tensors, metadata)
	if err != nil {
		return err
	}
	prefix := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	if _, err := w.Write(append(prefix, header...)); err != nil {
		return err
	}
	for _, name := range names {
		_, raw, err := encode(tensors[name])
		if err != nil {
			return check.Wrapf(err, "tensor %q", name)
		}
		if _, err := w.Write(raw); err != nil {
			return err
		}
	}
	return nil
}

// safetensorsHeader returns the JSON header, padded with spaces to a
// multiple of 8 bytes, for tensors laid out one after another in names' order.
func safetensorsHeader(names []string, tensors map[string]*tensor.Dense, metadata map[string]string) ([]byte, error) {
	entries := make(map[string]interface{}, len(names)+1)
	if len(metadata) > 0 {
		entries[metadataKey] = metadata
	}
	var offset int64
	for _, name := range names {
		info, err := describe(name, tensors[name], offset)
		if err != nil {
			return nil, check.Wrapf(err, "tensor %q", name)
		}
		entries[name] = info
		offset = info.DataOffsets[1]
	}
	header, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	return append(header, bytes.Repeat([]byte(" "), (8-len(header)%8)%8)...), nil
}

// describe returns the header entry of t stored from offset on.
func describe(name string, t *tensor.Dense, offset int64) (tensorInfo, error) {
	if name == metadataKey || name == "" {
		return tensorInfo{}, errors.Errorf("name %q, expected a tensor's name (not empty, not the metadata's)", name)
	}
	if t == nil {
		return tensorInfo{}, errors.New("tensor is nil")
	}
	k, err := writableKind(t.Dtype())
	if err != nil {
		return tensorInfo{}, err
	}
	shape := append([]int{}, t.Shape()...) // never nil: a scalar's shape is []
	n, err := byteSize(shape, k.size)
	if err != nil {
		return tensorInfo{}, err
	}
	return tensorInfo{Dtype: k.safetensors, Shape: shape, DataOffsets: []int64{offset, offset + n}}, nil
}

// Read loads the tensors and metadata of the safetensors file at path.
// F32 and F64 tensors keep their precision; F16 and BF16 tensors are
// widened to float32. metadata is nil when the file has none.
func Read(path string) (map[string]*tensor.Dense, map[string]string, error) {
	tensors, metadata, err := readSafetensors(path)
	if err != nil {
		return nil, nil, check.Wrapf(err, "checkpoint: read safetensors %s", path)
	}
	return tensors, metadata, nil
}

func readSafetensors(path string) (map[string]*tensor.Dense, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	return decodeSafetensors(f, fi.Size())
}

// decodeSafetensors reads a safetensors file of size bytes from r. It allocates
// nothing that the file's size does not bound: the header length and every tensor's
// data_offsets are checked against it first.
func decodeSafetensors(r io.ReaderAt, size int64) (map[string]*tensor.Dense, map[string]string, error) {
	header, err := readHeader(r, size)
	if err != nil {
		return nil, nil, err
	}
	spans, metadata, err := parseHeader(header, size-8-int64(len(header)))
	if err != nil {
		return nil, nil, err
	}
	tensors := make(map[string]*tensor.Dense, len(spans))
	for _, s := range spans {
		data := make([]byte, s.end-s.begin)
		if _, err := r.ReadAt(data, 8+int64(len(header))+s.begin); err != nil {
			return nil, nil, check.Wrapf(err, "tensor %q", s.name)
		}
		tensors[s.name] = newDense(s.kind, s.shape, data)
	}
	return tensors, metadata, nil
}

// readHeader reads the header length and the JSON header of a file of size
// bytes.
func readHeader(r io.ReaderAt, size int64) ([]byte, error) {
	if size < 8 {
		return nil, errors.Errorf("truncated: %d bytes, shorter than the 8-byte header length", size)
	}
	var prefix [8]byte
	if _, err := r.ReadAt(prefix[:], 0); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	if n > uint64(size-8) {
		return nil, errors.Errorf("header length %d beyond the file size of %d bytes", n, size)
	}
	header := make([]byte, n)
	if _, err := r.ReadAt(header, 8); err != nil {
		return nil, err
	}
	return header, nil
}

// parseHeader decodes a JSON header and checks that its tensors exactly
// tile a data buffer of bufLen bytes.
func parseHeader(header []byte, bufLen int64) ([]span, map[string]string, error) {
	if !bytes.HasPrefix(header, []byte("{")) {
		return nil, nil, errors.New("header does not start with '{'")
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(header, &entries); err != nil {
		return nil, nil, check.Wrap(err, "header is not valid JSON")
	}
	if err := checkUniqueKeys(header); err != nil {
		return nil, nil, err
	}
	var metadata map[string]string
	if raw, ok := entries[metadataKey]; ok {
		if err := json.Unmarshal(raw, &metadata); err != nil {
			return nil, nil, check.Wrapf(err, "%s is not a map of strings", metadataKey)
		}
		delete(entries, metadataKey)
	}
	spans := make([]span, 0, len(entries))
	for name, raw := range entries {
		s, err := parseEntry(raw, bufLen)
		if err != nil {
			return nil, nil, check.Wrapf(err, "tensor %q", name)
		}
		s.name = name
		spans = append(spans, s)
	}
	return spans, metadata, checkTiling(spans, bufLen)
}

// checkUniqueKeys refuses a header that names a key twice: decoding keeps the
// last, silently. The header is valid JSON.
func checkUniqueKeys(header []byte) error {
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil { // '{'
		return err
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		if seen[key] {
			return errors.Errorf("header names %q twice, expected each key once", key)
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return err
		}
	}
	return nil
}

// parseEntry decodes and checks one tensor's header entry.
func parseEntry(raw json.RawMessage, bufLen int64) (span, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var info tensorInfo
	if err := dec.Decode(&info); err != nil {
		return span{}, check.Wrap(err, "bad header entry")
	}
	k := kindBySafetensors(info.Dtype)
	switch {
	case k == nil:
		return span{}, errors.Errorf("dtype %q not supported (F16, BF16, F32, F64)", info.Dtype)
	case info.Shape == nil:
		return span{}, errors.New("shape missing")
	case len(info.DataOffsets) != 2:
		return span{}, errors.Errorf("data_offsets %v are not [begin, end]", info.DataOffsets)
	}
	s := span{kind: k, shape: info.Shape, begin: info.DataOffsets[0], end: info.DataOffsets[1]}
	return s, checkSpan(s, bufLen)
}

// checkSpan checks that s lies in a data buffer of bufLen bytes and that its
// byte count matches its shape and dtype.
func checkSpan(s span, bufLen int64) error {
	if s.begin < 0 || s.begin > s.end || s.end > bufLen {
		return errors.Errorf("data_offsets [%d, %d] out of range of the %d-byte data buffer", s.begin, s.end, bufLen)
	}
	n, err := byteSize(s.shape, s.kind.size)
	if err != nil {
		return err
	}
	if n != s.end-s.begin {
		return errors.Errorf("data_offsets [%d, %d] hold %d bytes, shape %v of %s needs %d",
			s.begin, s.end, s.end-s.begin, s.shape, s.kind.safetensors, n)
	}
	return nil
}

// checkTiling checks that the spans cover the data buffer of bufLen bytes
// without gaps or overlaps.
func checkTiling(spans []span, bufLen int64) error {
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), strings.Compare(a.name, b.name))
	})
	var pos int64
	for i, s := range spans {
		switch {
		case s.begin < pos:
			prev := spans[i-1]
			return errors.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q at [%d, %d]",
				s.name, s.begin, s.end, prev.name, prev.begin, prev.end)
		case s.begin > pos:
			return errors.Errorf("tensor %q: data_offsets [%d, %d] leave bytes [%d, %d) of the data buffer unused",
				s.name, s.begin, s.end, pos, s.begin)
		}
		pos = s.end
	}
	switch {
	case pos == bufLen:
		return nil
	case len(spans) == 0:
		return errors.Errorf("no tensors, but a %d-byte data buffer", bufLen)
	}
	last := spans[len(spans)-1]
	return errors.Errorf("tensor %q: data_offsets [%d, %d] end before the %d-byte data buffer does",
		last.name, last.begin, last.end, bufLen)
}
