package checkpoint

import (
	"bytes"
	"encoding/binary"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// safetensorsFile lays out a file by the format's definition: the header
// length as 8 little-endian bytes, the header, the data buffer.
func safetensorsFile(header string, data ...byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), data...)
}

func TestSafetensorsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	transposed := randDense(rng, tensor.Float32, 3, 5)
	if err := transposed.T(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		tensors  map[string]*tensor.Dense
		metadata map[string]string
	}{
		{"empty", map[string]*tensor.Dense{}, nil},
		{"float32 ranks 0 to 4", map[string]*tensor.Dense{
			"scalar": randDense(rng, tensor.Float32),
			"vector": randDense(rng, tensor.Float32, 7),
			"matrix": randDense(rng, tensor.Float32, 3, 4),
			"rank3":  randDense(rng, tensor.Float32, 2, 3, 4),
			"rank4":  randDense(rng, tensor.Float32, 2, 1, 3, 2),
		}, map[string]string{"format": "pt"}},
		{"float64 and float32 mixed, PEFT keys", map[string]*tensor.Dense{
			"base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight": randDense(rng, tensor.Float64, 4, 16),
			"base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight": randDense(rng, tensor.Float32, 16, 4),
			"base_model.model.model.layers.0.mlp.down_proj.lora_A.weight":    randDense(rng, tensor.Float64),
		}, map[string]string{"format": "pt", "velora": "vd", "<&>": "needs \"escaping\""}},
		{"zero-size and views", map[string]*tensor.Dense{
			"empty":      f32([]int{0, 3}),
			"transposed": transposed,
			"one":        randDense(rng, tensor.Float64, 1, 1, 1),
		}, map[string]string{}},
	} {
		path := filepath.Join(t.TempDir(), "model.safetensors")
		before := clones(tc.tensors)
		if err := Write(path, tc.tensors, tc.metadata); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, metadata, err := Read(path)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != len(tc.tensors) {
			t.Errorf("%s: read %d tensors, wrote %d", tc.name, len(got), len(tc.tensors))
		}
		for key, want := range tc.tensors {
			checkEqual(t, tc.name+" "+key, got[key], want)
			checkEqual(t, tc.name+" input "+key, want, before[key])
		}
		if !maps.Equal(metadata, tc.metadata) {
			t.Errorf("%s: metadata %v, want %v", tc.name, metadata, tc.metadata)
		}
	}
}

// The bytes of a small file written from the format's definition: header
// entries in key order ("__metadata__" sorts before lowercase letters),
// data laid out in the same order, header padded with spaces to 144 bytes.
func TestWriteBytes(t *testing.T) {
	tensors := map[string]*tensor.Dense{
		"w": f32([]int{2}, 1, -2),
		"s": f64(nil, 0.5),
	}
	var want []byte
	want = append(want, 0x90, 0, 0, 0, 0, 0, 0, 0) // 144
	want = append(want, `{"__metadata__":{"format":"pt"},`+
		`"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]},`+
		`"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`+
		`      `...) // 138 bytes of JSON, 6 of padding
	want = append(want, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f) // 0.5 = 0x3fe0000000000000
	want = append(want, 0, 0, 0x80, 0x3f)             // 1 = 0x3f800000
	want = append(want, 0, 0, 0, 0xc0)                // -2 = 0xc0000000

	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := Write(path, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// A file laid out as Python's safetensors (the Rust writer) lays it out:
// "__metadata__" first, tensors ordered by dtype, widest first, then name,
// so the data order differs from the key order; compact JSON; header padded
// to 256 bytes. It holds every dtype Read accepts.
func TestReadReferenceLayout(t *testing.T) {
	header := `{"__metadata__":{"format":"pt"},` +
		`"d":{"dtype":"F64","shape":[],"data_offsets":[0,8]},` +
		`"c":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},` +
		`"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[16,20]},` +
		`"a":{"dtype":"F16","shape":[3],"data_offsets":[20,26]}}` +
		strings.Repeat(" ", 5) // 251 bytes of JSON
	data := []byte{
		0, 0, 0, 0, 0, 0, 0xf8, 0xbf, // d: -1.5 = 0xbff8000000000000
		0, 0, 0x80, 0x3e, 0, 0, 0x40, 0x40, // c: 0.25 = 0x3e800000, 3 = 0x40400000
		0x80, 0x3f, 0x49, 0xc0, // b: 1 = 0x3f80, -3.140625 = 0xc049
		0x00, 0x3c, 0xff, 0x7b, 0x01, 0x00, // a: 1 = 0x3c00, 65504 = 0x7bff, 2⁻²⁴ = 0x0001
	}
	path := writeFile(t, "reference.safetensors", safetensorsFile(header, data...))
	got, metadata, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*tensor.Dense{
		"d": f64(nil, -1.5),
		"c": f32([]int{2}, 0.25, 3),
		"b": f32([]int{1, 2}, 1, -3.140625),
		"a": f32([]int{3}, 1, 65504, 1.0/(1<<24)),
	}
	for key, w := range want {
		checkEqual(t, key, got[key], w)
	}
	if len(got) != len(want) || metadata["format"] != "pt" || len(metadata) != 1 {
		t.Errorf("got %d tensors and metadata %v", len(got), metadata)
	}
}

func TestReadErrors(t *testing.T) {
	entry := func(name, dtype, shape, offsets string) string {
		return `"` + name + `":{"dtype":"` + dtype + `","shape":` + shape + `,"data_offsets":` + offsets + `}`
	}
	four := []byte{1, 2, 3, 4}
	for _, tc := range []struct {
		name  string
		file  []byte
		wants []string
	}{
		{"empty file", nil, []string{"truncated: 0 bytes"}},
		{"short length", []byte{1, 0, 0, 0, 0}, []string{"truncated: 5 bytes"}},
		{"header beyond file", safetensorsFile("{}")[:9], []string{"header length 2 beyond the file size of 9 bytes"}},
		{"invalid JSON", safetensorsFile(`{"w":`), []string{"header is not valid JSON"}},
		{"not an object", safetensorsFile(`[1]`), []string{"header does not start with '{'"}},
		{"metadata not strings", safetensorsFile(`{"__metadata__":{"a":1}}`), []string{"__metadata__ is not a map of strings"}},
		{"unknown dtype", safetensorsFile("{"+entry("w", "I32", "[1]", "[0,4]")+"}", four...),
			[]string{`tensor "w"`, `dtype "I32" not supported (F16, BF16, F32, F64)`}},
		{"missing dtype", safetensorsFile(`{"w":{"shape":[1],"data_offsets":[0,4]}}`, four...),
			[]string{`tensor "w"`, `dtype "" not supported`}},
		{"missing shape", safetensorsFile(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, four...),
			[]string{`tensor "w"`, "shape missing"}},
		{"wrong-typed shape", safetensorsFile("{"+entry("w", "F32", `"1"`, "[0,4]")+"}", four...),
			[]string{`tensor "w"`, "bad header entry"}},
		{"unknown field", safetensorsFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":0}}`, four...),
			[]string{`tensor "w"`, `unknown field "x"`}},
		{"one offset", safetensorsFile("{"+entry("w", "F32", "[1]", "[4]")+"}", four...),
			[]string{`tensor "w"`, "data_offsets [4] are not [begin, end]"}},
		{"negative dimension", safetensorsFile("{"+entry("w", "F32", "[-1]", "[0,4]")+"}", four...),
			[]string{`tensor "w"`, "negative dimension"}},
		{"huge shape", safetensorsFile("{"+entry("w", "F32", "[4294967296,4294967296]", "[0,4]")+"}", four...),
			[]string{`tensor "w"`, "too large"}},
		{"end beyond buffer", safetensorsFile("{"+entry("w", "F32", "[2]", "[0,8]")+"}", four...),
			[]string{`tensor "w"`, "data_offsets [0, 8] out of range of the 4-byte data buffer"}},
		{"begin after end", safetensorsFile("{"+entry("w", "F32", "[1]", "[4,0]")+"}", four...),
			[]string{`tensor "w"`, "data_offsets [4, 0] out of range"}},
		{"size mismatch", safetensorsFile("{"+entry("w", "F32", "[2]", "[0,4]")+"}", four...),
			[]string{`tensor "w"`, "data_offsets [0, 4] hold 4 bytes, shape [2] of F32 needs 8"}},
		{"overlap", safetensorsFile("{"+entry("a", "F32", "[2]", "[0,8]")+","+entry("b", "F32", "[2]", "[4,12]")+"}", make([]byte, 12)...),
			[]string{`tensor "b": data_offsets [4, 12] overlap tensor "a" at [0, 8]`}},
		{"gap", safetensorsFile("{"+entry("a", "F32", "[1]", "[0,4]")+","+entry("b", "F32", "[1]", "[8,12]")+"}", make([]byte, 12)...),
			[]string{`tensor "b": data_offsets [8, 12] leave bytes [4, 8) of the data buffer unused`}},
		{"bytes after the last tensor", safetensorsFile("{"+entry("a", "F32", "[1]", "[0,4]")+"}", make([]byte, 8)...),
			[]string{`tensor "a": data_offsets [0, 4] end before the 8-byte data buffer does`}},
		{"data but no tensors", safetensorsFile("{}", four...), []string{"no tensors, but a 4-byte data buffer"}},
		// Decoding keeps the last of two entries of one name: the first's bytes would be lost.
		{"a name twice", safetensorsFile("{"+entry("w", "F32", "[1]", "[0,4]")+","+entry("w", "F32", "[1]", "[0,4]")+"}", four...),
			[]string{`header names "w" twice, expected each key once`}},
	} {
		path := writeFile(t, "bad.safetensors", tc.file)
		_, _, err := Read(path)
		checkError(t, err, append(tc.wants, "checkpoint: read safetensors "+path)...)
	}
	_, _, err := Read(filepath.Join(t.TempDir(), "missing.safetensors"))
	checkError(t, err, "checkpoint: read safetensors", "no such file")
}

// A zero-size tensor may share its offset with the tensor after it.
func TestReadZeroSizeAtSharedOffset(t *testing.T) {
	header := `{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},` +
		`"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	path := writeFile(t, "zero.safetensors", safetensorsFile(header, 0, 0, 0x80, 0x3f))
	got, _, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "a", got["a"], f32([]int{0}))
	checkEqual(t, "b", got["b"], f32([]int{1}, 1))
}

// A failed Write keeps the old file and leaves no temporary file behind.
func TestWriteErrorsKeepOldFile(t *testing.T) {
	ints := tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 2}))
	for _, tc := range []struct {
		name    string
		tensors map[string]*tensor.Dense
		wants   []string
	}{
		{"int tensor", map[string]*tensor.Dense{"a": f32([]int{1}, 1), "b": ints},
			[]string{`tensor "b"`, "dtype int not supported (float32, float64)"}},
		{"nil tensor", map[string]*tensor.Dense{"a": nil}, []string{`tensor "a"`, "tensor is nil"}},
		{"reserved name", map[string]*tensor.Dense{"__metadata__": f32([]int{1}, 1)},
			[]string{`tensor "__metadata__"`, "expected a tensor's name (not empty, not the metadata's)"}},
		{"empty name", map[string]*tensor.Dense{"": f32([]int{1}, 1)},
			[]string{`tensor ""`, `name "", expected a tensor's name`}},
	} {
		path := writeFile(t, "model.safetensors", []byte("old"))
		err := Write(path, tc.tensors, nil)
		checkError(t, err, append(tc.wants, "checkpoint: write safetensors "+path)...)
		checkUntouched(t, path, "old")
	}
}

// A second Write replaces the first.
func TestWriteReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.safetensors")
	for _, v := range []float32{1, 2} {
		if err := Write(path, map[string]*tensor.Dense{"w": f32(nil, v)}, nil); err != nil {
			t.Fatal(err)
		}
		got, _, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		checkEqual(t, "w", got["w"], f32(nil, v))
	}
}
