package checkpoint

import (
	"bytes"
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// Expected values from the IEEE 754 binary16 definition: sign, 5 exponent
// bits with bias 15, 10 fraction bits; exponent 0 is subnormal, 31 is
// infinity or NaN.
func TestHalfToFloat32(t *testing.T) {
	for _, tc := range []struct {
		bits uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},        // 0x155/1024 · 2⁻² + 2⁻²
		{0x7bff, 65504},                 // largest finite half
		{0x0400, 1.0 / (1 << 14)},       // smallest normal
		{0x0001, 1.0 / (1 << 24)},       // smallest subnormal
		{0x83ff, -1023.0 / (1 << 24)},   // largest subnormal, negative
		{0x7c00, float32(math.Inf(1))},  // +Inf
		{0xfc00, float32(math.Inf(-1))}, // -Inf
	} {
		if got := halfToFloat32(tc.bits); got != tc.want {
			t.Errorf("halfToFloat32(%#04x) = %v, want %v", tc.bits, got, tc.want)
		}
	}
	if got := halfToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("halfToFloat32(0x8000) = %v, want -0", got)
	}
	if got := halfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("halfToFloat32(0x7e00) = %v, want NaN", got)
	}
}

// bfloat16 is the top 16 bits of a float32.
func TestDecodeBF16(t *testing.T) {
	raw := []byte{0x80, 0x3f, 0x49, 0xc0, 0x80, 0x7f} // 0x3f80, 0xc049, 0x7f80
	want := []float32{1, -3.140625, float32(math.Inf(1))}
	got := decodeBF16(raw).([]float32)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("element %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestFortranToC(t *testing.T) {
	// v[i,j,k] = 100i + 10j + k for shape (2, 3, 4), listed with i varying
	// fastest (Fortran) and with k varying fastest (C).
	var fortran, c []byte
	for k := 0; k < 4; k++ {
		for j := 0; j < 3; j++ {
			for i := 0; i < 2; i++ {
				fortran = append(fortran, byte(100*i+10*j+k), 0xee)
			}
		}
	}
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				c = append(c, byte(100*i+10*j+k), 0xee)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		data  []byte
		shape []int
		size  int
		want  []byte
	}{
		{"scalar", []byte{1, 2, 3, 4}, nil, 4, []byte{1, 2, 3, 4}},
		{"vector", []byte{1, 2, 3}, []int{3}, 1, []byte{1, 2, 3}},
		{"matrix", []byte{0, 10, 1, 11, 2, 12}, []int{2, 3}, 1, []byte{0, 1, 2, 10, 11, 12}},
		{"rank 3, 2-byte elements", fortran, []int{2, 3, 4}, 2, c},
		{"empty", []byte{}, []int{0, 3}, 4, []byte{}},
	} {
		if got := fortranToC(tc.data, tc.shape, tc.size); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		size  int
		want  int64
		err   string
	}{
		{nil, 4, 4, ""},
		{[]int{2, 3}, 8, 48, ""},
		{[]int{0, 3}, 4, 0, ""},
		{[]int{1 << 40, 1 << 40, 0}, 4, 0, ""}, // a zero dimension wins over the overflow
		{[]int{2, -1}, 4, 0, "negative dimension"},
		{[]int{1 << 31, 1 << 31, 1 << 2}, 2, 0, "too large"},
	} {
		got, err := byteSize(tc.shape, tc.size)
		if tc.err != "" {
			checkError(t, err, tc.err)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("byteSize(%v, %d) = %d, %v; want %d", tc.shape, tc.size, got, err, tc.want)
		}
	}
}

// encode writes the elements as they appear, whatever the tensor's layout.
func TestEncodeLayouts(t *testing.T) {
	transposed := f32([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	if err := transposed.T(); err != nil {
		t.Fatal(err)
	}
	sliced, err := f64([]int{2, 3}, 1, 2, 3, 4, 5, 6).Slice(nil, tensor.S(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	colMajor := tensor.New(tensor.WithShape(2, 3), tensor.AsFortran([]float32{1, 2, 3, 4, 5, 6}))
	for _, tc := range []struct {
		name string
		in   *tensor.Dense
		want []byte
	}{
		// (3, 2) view: rows [1 4] [2 5] [3 6]
		{"transposed", transposed, encodeF32([]float32{1, 4, 2, 5, 3, 6})},
		// (2, 2) view: rows [2 3] [5 6]
		{"sliced", sliced.(*tensor.Dense), encodeF64([]float64{2, 3, 5, 6})},
		// AsFortran takes row-major values and stores them column-major
		{"column-major", colMajor, encodeF32([]float32{1, 2, 3, 4, 5, 6})},
		{"scalar", f64(nil, 2.5), []byte{0, 0, 0, 0, 0, 0, 4, 0x40}},
	} {
		_, got, err := encode(tc.in)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}
