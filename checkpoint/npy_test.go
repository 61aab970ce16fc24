package checkpoint

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// npyFile lays out a .npy file by NumPy's format description: magic,
// major and minor version, header length (2 bytes in version 1.0, 4 in
// 2.0 and 3.0), header, data.
func npyFile(major byte, header string, data ...byte) []byte {
	out := append([]byte("\x93NUMPY"), major, 0)
	if major == 1 {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(header)))
	}
	return append(append(out, header...), data...)
}

// Padding counts from NumPy's rule: 10 bytes of prefix plus the dict plus
// the newline rounded up to a multiple of 64, a full 64 when already even.
func TestFormatNPYHeader(t *testing.T) {
	ones := make([]int, 64)
	for i := range ones {
		ones[i] = 1
	}
	for _, tc := range []struct {
		h    npyHeader
		dict string
		pad  int
	}{
		{npyHeader{descr: "<f8"}, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 62},
		{npyHeader{descr: "<f4", shape: []int{3}}, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 60},
		{npyHeader{descr: "<f4", shape: []int{2, 3}}, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 58},
		{npyHeader{descr: "<f4", shape: []int{16, 16, 3, 768}, fortranOrder: true},
			"{'descr': '<f4', 'fortran_order': True, 'shape': (16, 16, 3, 768), }", 49},
		// 245 bytes of dict: 10 + 245 + 1 = 256 is already a multiple of 64
		{npyHeader{descr: "<f4", shape: ones},
			"{'descr': '<f4', 'fortran_order': False, 'shape': (1" + strings.Repeat(", 1", 63) + "), }", 64},
	} {
		want := tc.dict + strings.Repeat(" ", tc.pad) + "\n"
		if got := formatNPYHeader(tc.h); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestParseNPYHeader(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   npyHeader
		err    string
	}{
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n",
			npyHeader{descr: "<f4", shape: []int{2, 3}}, ""},
		{`{"shape": (2L, 1L), "fortran_order": True, "descr": "<f8"}`, // Python 2 longs, double quotes, any order
			npyHeader{descr: "<f8", fortranOrder: true, shape: []int{2, 1}}, ""},
		{"{'descr':'<f2','fortran_order':False,'shape':(7,)}", npyHeader{descr: "<f2", shape: []int{7}}, ""},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': ( ), }", npyHeader{descr: "<f4", shape: []int{}}, ""},
		{"[1]", npyHeader{}, `expected '{'`},
		{"{'descr': '<f4', 'fortran_order': False}", npyHeader{}, `lacks key "shape"`},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}", npyHeader{}, `header key "extra"`},
		{"{'descr': '<f4', 'descr': '<f8'}", npyHeader{}, `header key "descr" appears twice`},
		{"{'descr': '<f4' 'fortran_order': False}", npyHeader{}, `expected ','`},
		{"{'descr': '<f4', 'fortran_order': no}", npyHeader{}, "expected True or False"},
		{"{'shape': (3)}", npyHeader{}, "(3) is an integer, not a tuple"},
		{"{'shape': (-1,)}", npyHeader{}, "expected an integer ≥ 0"},
		{"{'shape': (2 3)}", npyHeader{}, "expected ',' or ')'"},
		{"{'shape': [2, 3]}", npyHeader{}, "expected '('"},
		{"{'descr: '<f4'}", npyHeader{}, "expected ':'"},
		{"{'descr': '<f4", npyHeader{}, "unterminated string"},
		{"{descr: 1}", npyHeader{}, "expected a string"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", npyHeader{}, "unexpected text after the dict"},
	} {
		got, err := parseNPYHeader(tc.header)
		if tc.err != "" {
			checkError(t, err, tc.err)
			continue
		}
		if err != nil || got.descr != tc.want.descr || got.fortranOrder != tc.want.fortranOrder ||
			!slices.Equal(got.shape, tc.want.shape) {
			t.Errorf("%q: got %+v, %v; want %+v", tc.header, got, err, tc.want)
		}
	}
}
