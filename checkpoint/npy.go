package checkpoint

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// npyMagic starts every .npy file; the major and minor version bytes follow.
const npyMagic = "\x93NUMPY"

// encodeNPY returns t as a version 1.0 .npy file in C order.
func encodeNPY(t *tensor.Dense) ([]byte, error) {
	k, raw, err := encode(t)
	if err != nil {
		return nil, err
	}
	header := formatNPYHeader(npyHeader{descr: k.npy, shape: t.Shape()})
	if len(header) > math.MaxUint16 {
		return nil, errors.Errorf("header of shape %v is %d bytes, more than version 1.0 allows", t.Shape(), len(header))
	}
	out := make([]byte, 0, 10+len(header)+len(raw))
	out = append(out, npyMagic+"\x01\x00"...)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	out = append(out, header...)
	return append(out, raw...), nil
}

// decodeNPY parses a .npy file of version 1.0, 2.0 or 3.0 holding '<f2'
// (widened to float32), '<f4' or '<f8' elements in C or Fortran order.
func decodeNPY(raw []byte) (*tensor.Dense, error) {
	header, data, err := splitNPY(raw)
	if err != nil {
		return nil, err
	}
	h, err := parseNPYHeader(header)
	if err != nil {
		return nil, err
	}
	k := kindByNPY(h.descr)
	if k == nil {
		return nil, errors.Errorf("dtype %q not supported (<f2, <f4, <f8)", h.descr)
	}
	n, err := byteSize(h.shape, k.size)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != n {
		return nil, errors.Errorf("data is %d bytes, shape %v of %s needs %d", len(data), h.shape, h.descr, n)
	}
	if h.fortranOrder {
		data = fortranToC(data, h.shape, k.size)
	}
	return newDense(k, h.shape, data), nil
}

// splitNPY checks the magic string and version of a .npy file and returns
// its header text and the data after it.
func splitNPY(raw []byte) (string, []byte, error) {
	if !bytes.HasPrefix(raw, []byte(npyMagic)) {
		return "", nil, errors.Errorf("magic %q, expected %q", raw[:min(len(raw), len(npyMagic))], npyMagic)
	}
	if len(raw) < len(npyMagic)+2 {
		return "", nil, errors.Errorf("truncated: %d bytes, no version", len(raw))
	}
	major, minor := raw[6], raw[7]
	if minor != 0 || major < 1 || major > 3 {
		return "", nil, errors.Errorf("version %d.%d not supported (1.0, 2.0, 3.0)", major, minor)
	}
	start := 12 // versions 2.0 and 3.0 give the header length in 4 bytes
	if major == 1 {
		start = 10 // version 1.0 in 2
	}
	if len(raw) < start {
		return "", nil, errors.Errorf("truncated: %d bytes, no header length", len(raw))
	}
	var n uint64
	if major == 1 {
		n = uint64(binary.LittleEndian.Uint16(raw[8:10]))
	} else {
		n = uint64(binary.LittleEndian.Uint32(raw[8:12]))
	}
	if n > uint64(len(raw)-start) {
		return "", nil, errors.Errorf("truncated: header of %d bytes, only %d follow", n, len(raw)-start)
	}
	return string(raw[start : start+int(n)]), raw[start+int(n):], nil
}
