package checkpoint

import (
	"archive/zip"
	"bytes"
	"io"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// zipEntry is one file of a hand-made archive.
type zipEntry struct {
	name   string
	data   []byte
	method uint16
}

// zipFile builds a zip archive of entries, in order.
func zipFile(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// f32Bytes are the little-endian float32 numbers 0 to 5, from their bit
// patterns: 0, 0x3f800000, 0x40000000, 0x40400000, 0x40800000, 0x40a00000.
var f32Bytes = []byte{
	0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40,
	0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40,
}

// ViT-B_16.npz-style keys in the four layouts NumPy writes, built byte by
// byte from the .npy format description.
func TestReadNPZHandMade(t *testing.T) {
	v1 := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + strings.Repeat(" ", 58) + "\n"
	// v[i,j,k] = 100i + 10j + k of shape (2, 2, 2) with i varying fastest
	var fortran []byte
	for k := 0; k < 2; k++ {
		for j := 0; j < 2; j++ {
			for i := 0; i < 2; i++ {
				fortran = append(fortran, encodeF64([]float64{float64(100*i + 10*j + k)})...)
			}
		}
	}
	file := zipFile(t,
		zipEntry{name: "embedding/bias.npy", data: npyFile(1, v1, f32Bytes...)},
		zipEntry{name: "cls.npy", data: npyFile(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n",
			0, 0, 0, 0, 0, 0, 0xf8, 0xbf), method: zip.Deflate}, // -1.5 = 0xbff8000000000000
		zipEntry{name: "Transformer/encoder_norm/scale.npy", data: npyFile(3, "{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }\n",
			0x00, 0x3c, 0xff, 0x7b, 0x01, 0x00)}, // 1, 65504, 2⁻²⁴
		zipEntry{name: "embedding/kernel.npy", data: npyFile(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2, 2), }\n", fortran...)},
		zipEntry{name: "head/bias.npy", data: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }\n")},
	)
	path := writeFile(t, "ViT-B_16.npz", file)
	got, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*tensor.Dense{
		"embedding/bias":                 f32([]int{2, 3}, 0, 1, 2, 3, 4, 5),
		"cls":                            f64(nil, -1.5),
		"Transformer/encoder_norm/scale": f32([]int{3}, 1, 65504, 1.0/(1<<24)),
		"embedding/kernel":               f64([]int{2, 2, 2}, 0, 1, 10, 11, 100, 101, 110, 111),
		"head/bias":                      f32([]int{0, 3}),
	}
	for key, w := range want {
		checkEqual(t, key, got[key], w)
	}
	if len(got) != len(want) {
		t.Errorf("read %d arrays, want %d", len(got), len(want))
	}
}

func TestNPZRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	colMajor := tensor.New(tensor.WithShape(2, 3), tensor.AsFortran([]float64{1, 2, 3, 4, 5, 6}))
	block := "Transformer/encoderblock_0/"
	for _, tc := range []struct {
		name    string
		tensors map[string]*tensor.Dense
	}{
		{"empty", map[string]*tensor.Dense{}},
		{"ViT-B_16 layout in miniature", map[string]*tensor.Dense{
			"embedding/kernel": randDense(rng, tensor.Float32, 2, 2, 3, 8), // HWIO
			"embedding/bias":   randDense(rng, tensor.Float32, 8),
			"cls":              randDense(rng, tensor.Float32, 1, 1, 8),
			"Transformer/posembed_input/pos_embedding":            randDense(rng, tensor.Float32, 1, 5, 8),
			block + "MultiHeadDotProductAttention_1/query/kernel": randDense(rng, tensor.Float32, 8, 2, 4),
			block + "MultiHeadDotProductAttention_1/out/kernel":   randDense(rng, tensor.Float32, 2, 4, 8),
			block + "MlpBlock_3/Dense_0/kernel":                   randDense(rng, tensor.Float32, 8, 16),
		}},
		{"float64, scalar, zero-size, column-major", map[string]*tensor.Dense{
			"scalar":   randDense(rng, tensor.Float64),
			"rank4":    randDense(rng, tensor.Float64, 2, 3, 1, 2),
			"zero":     f64([]int{3, 0}),
			"colMajor": colMajor,
			"one":      randDense(rng, tensor.Float32, 1),
		}},
	} {
		path := filepath.Join(t.TempDir(), "model.npz")
		before := clones(tc.tensors)
		if err := WriteNPZ(path, tc.tensors); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := ReadNPZ(path)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != len(tc.tensors) {
			t.Errorf("%s: read %d arrays, wrote %d", tc.name, len(got), len(tc.tensors))
		}
		for key, want := range tc.tensors {
			checkEqual(t, tc.name+" "+key, got[key], want)
			checkEqual(t, tc.name+" input "+key, want, before[key])
		}
	}
}

// WriteNPZ lays out an archive as np.savez does: stored (not deflated)
// entries named key + ".npy", each a version 1.0 .npy file whose data
// starts at a multiple of 64 bytes.
func TestWriteNPZBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.npz")
	if err := WriteNPZ(path, map[string]*tensor.Dense{"embedding/bias": f32([]int{2, 3}, 0, 1, 2, 3, 4, 5)}); err != nil {
		t.Fatal(err)
	}
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.File) != 1 || r.File[0].Name != "embedding/bias.npy" || r.File[0].Method != zip.Store {
		t.Fatalf("entries %v, want one stored embedding/bias.npy", r.File)
	}
	rc, err := r.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	want = append(want, "\x93NUMPY\x01\x00\x76\x00"...) // version 1.0, header of 118 bytes
	want = append(want, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"...)
	want = append(want, strings.Repeat(" ", 58)+"\n"...) // 10 + 59 + 58 + 1 = 128
	want = append(want, f32Bytes...)
	if !bytes.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestReadNPZErrors(t *testing.T) {
	good := npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32Bytes...)
	archive := zipFile(t, zipEntry{name: "w.npy", data: good})
	corrupt := bytes.Clone(archive)
	corrupt[bytes.Index(corrupt, f32Bytes)+6] ^= 0xff // a data byte: the CRC no longer matches
	withHeader := func(header string) []byte {
		return zipFile(t, zipEntry{name: "w.npy", data: npyFile(1, header, f32Bytes...)})
	}
	for _, tc := range []struct {
		name  string
		file  []byte
		wants []string
	}{
		{"not a zip", []byte("PK but not really a zip archive"), []string{"not a valid zip file"}},
		{"empty", nil, []string{"empty file (0 bytes)", "not a valid zip file"}},
		{"truncated zip", archive[:len(archive)/2], []string{"truncated: the file's", "bytes start a zip archive but lack its end",
			"(was the file cut short?)", "not a valid zip file"}},
		{"truncated in its end", archive[:len(archive)-3], []string{"truncated: the file's", "not a valid zip file"}},
		{"checksum", corrupt, []string{`key "w"`, "checksum error"}},
		{"not .npy", zipFile(t, zipEntry{name: "README.txt"}), []string{`entry "README.txt", expected a .npy file`}},
		{"duplicate", zipFile(t, zipEntry{name: "w.npy", data: good}, zipEntry{name: "w.npy", data: good}),
			[]string{`key "w" appears twice`}},
		{"bad magic", zipFile(t, zipEntry{name: "w.npy", data: []byte("\x93NUMPZ\x01\x00")}), []string{`key "w"`, `magic "`, `expected "\x93NUMPY"`}},
		{"tiny", zipFile(t, zipEntry{name: "w.npy", data: []byte("PK")}), []string{`key "w"`, `magic "`, `expected "\x93NUMPY"`}},
		{"no version", zipFile(t, zipEntry{name: "w.npy", data: []byte("\x93NUMPY\x01")}), []string{`key "w"`, "truncated: 7 bytes, no version"}},
		{"version 4.0", zipFile(t, zipEntry{name: "w.npy", data: npyFile(4, "{}")}), []string{`key "w"`, "version 4.0 not supported"}},
		{"version 1.1", zipFile(t, zipEntry{name: "w.npy", data: []byte("\x93NUMPY\x01\x01\x00\x00")}), []string{"version 1.1 not supported"}},
		{"no header length", zipFile(t, zipEntry{name: "w.npy", data: []byte("\x93NUMPY\x02\x00\x10\x00")}),
			[]string{`key "w"`, "truncated: 10 bytes, no header length"}},
		{"truncated header", zipFile(t, zipEntry{name: "w.npy", data: good[:40]}), []string{`key "w"`, "truncated: header of"}},
		{"truncated data", zipFile(t, zipEntry{name: "w.npy", data: good[:len(good)-4]}),
			[]string{`key "w"`, "data is 20 bytes, shape [2 3] of <f4 needs 24"}},
		{"extra data", zipFile(t, zipEntry{name: "w.npy", data: append(bytes.Clone(good), 0)}),
			[]string{`key "w"`, "data is 25 bytes, shape [2 3] of <f4 needs 24"}},
		{"int dtype", withHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }"),
			[]string{`key "w"`, `dtype "<i4" not supported (<f2, <f4, <f8)`}},
		{"big-endian", withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }"),
			[]string{`key "w"`, `dtype ">f4" not supported`}},
		{"structured dtype", withHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }"),
			[]string{`key "w"`, `header key "descr"`, "expected a string"}},
		{"missing key", withHeader("{'descr': '<f4', 'shape': (6,), }"), []string{`key "w"`, `lacks key "fortran_order"`}},
		{"huge shape", withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"),
			[]string{`key "w"`, "too large"}},
	} {
		path := writeFile(t, "bad.npz", tc.file)
		_, err := ReadNPZ(path)
		checkError(t, err, append(tc.wants, "checkpoint: read npz "+path)...)
	}
	_, err := ReadNPZ(filepath.Join(t.TempDir(), "missing.npz"))
	checkError(t, err, "checkpoint: read npz", "no such file")
}

// A failed WriteNPZ keeps the old file and leaves no temporary file behind.
func TestWriteNPZErrorsKeepOldFile(t *testing.T) {
	ints := tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 2}))
	for _, tc := range []struct {
		name    string
		tensors map[string]*tensor.Dense
		wants   []string
	}{
		{"int tensor", map[string]*tensor.Dense{"a": f32([]int{1}, 1), "b": ints},
			[]string{`key "b"`, "dtype int not supported (float32, float64)"}},
		{"nil tensor", map[string]*tensor.Dense{"a": nil}, []string{`key "a"`, "tensor is nil"}},
	} {
		path := writeFile(t, "model.npz", []byte("old"))
		err := WriteNPZ(path, tc.tensors)
		checkError(t, err, append(tc.wants, "checkpoint: write npz "+path)...)
		checkUntouched(t, path, "old")
	}
}
