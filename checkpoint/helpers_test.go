package checkpoint

import (
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// randDense returns a tensor of dtype dt and shape with seeded values.
func randDense(rng *rand.Rand, dt tensor.Dtype, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	if len(shape) == 0 {
		n = 1
	}
	if dt == tensor.Float32 {
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	}
	data := make([]float64, n)
	for i := range data {
		data[i] = rng.NormFloat64()
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// values returns t's elements in row-major order as float64, read through
// At so that views and column-major tensors read as they appear.
func values(t *testing.T, d *tensor.Dense) []float64 {
	t.Helper()
	if d.IsScalar() {
		return []float64{valueOf(d.ScalarValue())}
	}
	shape := d.Shape()
	out := make([]float64, 0, shape.TotalSize())
	coords := make([]int, len(shape))
	for range shape.TotalSize() {
		v, err := d.At(coords...)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, valueOf(v))
		for axis := len(shape) - 1; axis >= 0; axis-- {
			if coords[axis]++; coords[axis] < shape[axis] {
				break
			}
			coords[axis] = 0
		}
	}
	return out
}

func valueOf(v interface{}) float64 {
	if f, ok := v.(float32); ok {
		return float64(f)
	}
	return v.(float64)
}

// checkEqual fails the test unless got has want's dtype, shape and values,
// compared exactly: the formats store every bit.
func checkEqual(t *testing.T, key string, got, want *tensor.Dense) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: missing", key)
		return
	}
	if got.Dtype() != want.Dtype() || !got.Shape().Eq(want.Shape()) {
		t.Errorf("%s: got %v %v, want %v %v", key, got.Dtype(), got.Shape(), want.Dtype(), want.Shape())
		return
	}
	if g, w := values(t, got), values(t, want); !slices.Equal(g, w) {
		t.Errorf("%s: got values %v, want %v", key, g, w)
	}
}

// clones returns deep copies of tensors, to check that writers leave their
// input alone.
func clones(tensors map[string]*tensor.Dense) map[string]*tensor.Dense {
	out := make(map[string]*tensor.Dense, len(tensors))
	for k, v := range tensors {
		out[k] = v.Clone().(*tensor.Dense)
	}
	return out
}

// writeFile writes data to a file named name in a fresh directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkError fails the test unless err mentions every one of wants.
func checkError(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("got no error, want one mentioning %q", wants)
		return
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// checkUntouched fails the test unless path still holds old and nothing
// else lies in its directory.
func checkUntouched(t *testing.T, path, old string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != old {
		t.Errorf("%s holds %q (%v), want the old content %q", path, got, err, old)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		names := make([]string, len(entries))
		for i, e := range entries {
			names[i] = e.Name()
		}
		t.Errorf("directory holds %q, want only %s", names, filepath.Base(path))
	}
}

func f32(shape []int, data ...float32) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

func f64(shape []int, data ...float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}
