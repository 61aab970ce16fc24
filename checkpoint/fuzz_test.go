package checkpoint

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"maps"
	"math/rand"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// The fuzz tests below feed the readers arbitrary bytes. A reader must not panic or
// hang, and must either refuse the input with an error or return tensors that survive
// a round trip through the package's own writer unchanged. go test runs their seeds
// (valid files from the writers and the hand-made layouts of the other tests, and some
// broken ones) as ordinary tests; go test -fuzz=FuzzX -fuzztime 45s ./checkpoint
// explores further.

// seedTensors are the tensor sets the seeds are written from: every dtype the writers
// take, a scalar, a zero-size tensor and a column-major one.
func seedTensors() []map[string]*tensor.Dense {
	rng := rand.New(rand.NewSource(3))
	return []map[string]*tensor.Dense{
		{},
		{"embedding/kernel": randDense(rng, tensor.Float32, 2, 2, 3, 2), "embedding/bias": randDense(rng, tensor.Float32, 2)},
		{
			"scalar":   randDense(rng, tensor.Float64),
			"zero":     f64([]int{3, 0}),
			"colMajor": tensor.New(tensor.WithShape(2, 3), tensor.AsFortran([]float64{1, 2, 3, 4, 5, 6})),
		},
	}
}

// checkRoundTrip fails the test unless tensors, read from a fuzzed file, are written
// by write and read back by read with the same shapes and the same bytes.
func checkRoundTrip(t *testing.T, tensors map[string]*tensor.Dense,
	write func(*bytes.Buffer, map[string]*tensor.Dense) error, read func([]byte) (map[string]*tensor.Dense, error)) {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf, tensors); err != nil {
		t.Fatalf("writing what was read: %v", err)
	}
	again, err := read(buf.Bytes())
	if err != nil {
		t.Fatalf("reading what was written: %v", err)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(again)), slices.Sorted(maps.Keys(tensors))) {
		t.Fatalf("keys %q, wrote %q", slices.Sorted(maps.Keys(again)), slices.Sorted(maps.Keys(tensors)))
	}
	for key, want := range tensors {
		got := again[key]
		_, wantRaw, err := encode(want)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		_, gotRaw, err := encode(got)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if got.Dtype() != want.Dtype() || !slices.Equal(got.Shape(), want.Shape()) || !bytes.Equal(gotRaw, wantRaw) {
			t.Fatalf("%s: read back %v %v, wrote %v %v (or other bytes)", key, got.Dtype(), got.Shape(), want.Dtype(), want.Shape())
		}
		if n, err := byteSize(got.Shape(), int(got.Dtype().Size())); err != nil || n != int64(len(gotRaw)) {
			t.Fatalf("%s: shape %v of %v, but %d bytes (%v)", key, got.Shape(), got.Dtype(), len(gotRaw), err)
		}
	}
}

func FuzzReadSafetensors(f *testing.F) {
	for _, tensors := range seedTensors() {
		var buf bytes.Buffer
		if err := writeSafetensors(&buf, tensors, map[string]string{"format": "pt"}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
		f.Add(buf.Bytes()[:buf.Len()/2]) // truncated
	}
	f.Add(safetensorsFile(`{"__metadata__":{"format":"pt"},`+
		`"d":{"dtype":"F64","shape":[],"data_offsets":[0,8]},`+
		`"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[8,12]},`+
		`"a":{"dtype":"F16","shape":[3],"data_offsets":[12,18]}}`,
		0, 0, 0, 0, 0, 0, 0xf8, 0xbf, 0x80, 0x3f, 0x49, 0xc0, 0x00, 0x3c, 0xff, 0x7b, 0x01, 0x00))
	f.Add(safetensorsFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
		0, 0, 0x80, 0x3f))
	f.Add(safetensorsFile(`{"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}}`, 1, 2, 3, 4))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'})
	f.Fuzz(func(t *testing.T, file []byte) {
		tensors, metadata, err := decodeSafetensors(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			return
		}
		read := func(b []byte) (map[string]*tensor.Dense, error) {
			again, meta, err := decodeSafetensors(bytes.NewReader(b), int64(len(b)))
			if err == nil && !maps.Equal(meta, metadata) {
				t.Fatalf("metadata %v read back as %v", metadata, meta)
			}
			return again, err
		}
		write := func(w *bytes.Buffer, tensors map[string]*tensor.Dense) error {
			return writeSafetensors(w, tensors, metadata)
		}
		checkRoundTrip(t, tensors, write, read)
	})
}

func FuzzReadNPZ(f *testing.F) {
	for _, tensors := range seedTensors() {
		var buf bytes.Buffer
		if err := writeNPZ(&buf, tensors); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
		f.Add(buf.Bytes()[:buf.Len()/2]) // truncated
	}
	f.Add(zipFile(f,
		zipEntry{name: "cls.npy", method: zip.Deflate,
			data: npyFile(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n", 0, 0, 0, 0, 0, 0, 0xf8, 0xbf)},
		zipEntry{name: "kernel.npy",
			data: npyFile(3, "{'descr': '<f2', 'fortran_order': True, 'shape': (3,), }\n", 0x00, 0x3c, 0xff, 0x7b, 0x01, 0x00)}))
	f.Add(zipFile(f, zipEntry{name: "README.txt", data: []byte("not an array")}))
	f.Add([]byte("PK but not really a zip archive"))
	f.Fuzz(func(t *testing.T, file []byte) {
		tensors, err := decodeNPZ(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			return
		}
		read := func(b []byte) (map[string]*tensor.Dense, error) { return decodeNPZ(bytes.NewReader(b), int64(len(b))) }
		write := func(w *bytes.Buffer, tensors map[string]*tensor.Dense) error { return writeNPZ(w, tensors) }
		checkRoundTrip(t, tensors, write, read)
	})
}

func FuzzDecodeNPY(f *testing.F) {
	for _, tensors := range seedTensors() {
		for _, t := range tensors {
			raw, err := encodeNPY(t)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(raw)
		}
	}
	f.Add(npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"+strings.Repeat(" ", 58)+"\n", f32Bytes...))
	f.Add(npyFile(2, "{'shape': (3L,), 'fortran_order': True, \"descr\": '<f2'}", 0x00, 0x3c, 0xff, 0x7b, 0x01, 0x00))
	f.Add(npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", f32Bytes...))
	f.Add(npyFile(3, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", f32Bytes...))
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\xff{"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := decodeNPY(raw)
		if err != nil {
			return
		}
		read := func(b []byte) (map[string]*tensor.Dense, error) {
			d, err := decodeNPY(b)
			return map[string]*tensor.Dense{"x": d}, err
		}
		write := func(w *bytes.Buffer, tensors map[string]*tensor.Dense) error {
			raw, err := encodeNPY(tensors["x"])
			w.Write(raw)
			return err
		}
		checkRoundTrip(t, map[string]*tensor.Dense{"x": d}, write, read)
	})
}

// rawZip is a zip archive of one entry whose header claims the sizes given, whatever
// the bytes of data.
func rawZip(t testing.TB, method uint16, compressed, uncompressed uint64, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "w.npy", Method: method, CompressedSize64: compressed, UncompressedSize64: uncompressed})
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A header that claims more bytes than the file holds is refused before anything of
// that size is allocated: a small broken file must not take gigabytes of memory.
func TestReadersRefuseSizesBeyondTheFile(t *testing.T) {
	var deflated bytes.Buffer
	fw, err := flate.NewWriter(&deflated, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(make([]byte, 100000)) // 100 kB of zeros deflate to about a hundred bytes
	fw.Close()
	const tib = 1 << 40
	for _, tc := range []struct {
		name  string
		read  func(path string) error
		file  []byte
		wants []string
	}{
		{"safetensors header length", readSafetensorsErr, safetensorsFile("{}")[:8], []string{"header length 2 beyond the file size of 8 bytes"}},
		{"safetensors header length 2⁶³-1", readSafetensorsErr,
			append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, "{}"...),
			[]string{"header length 9223372036854775807 beyond the file size of 10 bytes"}},
		{"safetensors tensor of 4 TiB", readSafetensorsErr,
			safetensorsFile(`{"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}}`, 1, 2, 3, 4),
			[]string{`tensor "w"`, "data_offsets [0, 4398046511104] out of range of the 4-byte data buffer"}},
		{"npz stored entry of 1 TiB", readNPZErr, rawZip(t, zip.Store, tib, tib, []byte("\x93NUMPY")),
			[]string{`key "w"`, "truncated: the entry's 1099511627776 bytes from byte", "run past the end of the"}},
		{"npz deflated entry of 1 TiB", readNPZErr, rawZip(t, zip.Deflate, uint64(deflated.Len()), tib, deflated.Bytes()),
			[]string{`key "w"`, "the entry claims 1099511627776 bytes, more than its", "deflated bytes can hold"}},
		{"npz stored entry larger than stored", readNPZErr, rawZip(t, zip.Store, 6, tib, []byte("\x93NUMPY")),
			[]string{`key "w"`, "the entry claims 1099511627776 bytes, more than its 6 stored bytes can hold"}},
		{"npy shape of 4 TiB", readNPZErr,
			zipFile(t, zipEntry{name: "w.npy", data: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }", f32Bytes...)}),
			[]string{`key "w"`, "data is 24 bytes, shape [1099511627776] of <f4 needs 4398046511104"}},
		{"npy header of 4 GiB", readNPZErr, zipFile(t, zipEntry{name: "w.npy", data: []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff{")}),
			[]string{`key "w"`, "truncated: header of 4294967295 bytes, only 1 follow"}},
	} {
		path := writeFile(t, "big", tc.file)
		var err error
		n := allocated(func() { err = tc.read(path) })
		checkError(t, err, tc.wants...)
		if n > 16<<20 {
			t.Errorf("%s: reading a %d-byte file allocated %d bytes", tc.name, len(tc.file), n)
		}
	}
}

func readSafetensorsErr(path string) error {
	_, _, err := Read(path)
	return err
}

func readNPZErr(path string) error {
	_, err := ReadNPZ(path)
	return err
}

// FuzzJSONObjectWith: the recogniser CheckFilePath runs on whatever file an
// output flag names never panics, and takes nothing that does not start, past
// white space, with a JSON object.
func FuzzJSONObjectWith(f *testing.F) {
	for _, seed := range []string{`{"ablate": ""}`, `{"config": {}}`, `root:x:0:0`, `{`, `[1]`, `{"ablate"`, "", `{"a":1,"ablate":2}`} {
		f.Add([]byte(seed))
	}
	ours := JSONObjectWith("ablate")
	f.Fuzz(func(t *testing.T, data []byte) {
		if ours(data) && !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
			t.Fatalf("%q taken for a JSON object", data)
		}
	})
}
