package nf4

import (
	"fmt"
	"math"
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op/internal/opkit"
)

// NF4 storage constants, bitsandbytes' defaults for QLoRA
// (bnb_4bit_use_double_quant=True).
const (
	// nf4BlockSize is the number of weights that share one absmax.
	nf4BlockSize = 64
	// absmaxBlockSize is the number of absmax values that share one
	// second-level float32 scale in double quantisation.
	absmaxBlockSize = 256
)

// nf4Codes are the 16 NormalFloat4 values of QLoRA (Dettmers et al., arXiv
// 2305.14314) as bitsandbytes stores them (get_4bit_type("nf4")):
// index i is the value of 4-bit code i.
var nf4Codes = [16]float32{
	-1.0,
	-0.6961928009986877,
	-0.5250730514526367,
	-0.39491748809814453,
	-0.28444138169288635,
	-0.18477343022823334,
	-0.09105003625154495,
	0.0,
	0.07958029955625534,
	0.16093020141124725,
	0.24611230194568634,
	0.33791524171829224,
	0.44070982933044434,
	0.5626170039176941,
	0.7229568362236023,
	1.0,
}

// dynamicCodes is bitsandbytes' signed 8-bit "dynamic" code book, which
// double quantisation uses for the centred absmax values.
var dynamicCodes = dynamicMap()

// nf4Thresholds and dynamicThresholds are the decision thresholds of the two
// code books: the midpoints between consecutive codes.
var (
	nf4Thresholds     = midpoints(nf4Codes[:])
	dynamicThresholds = midpoints(dynamicCodes[:])
)

// dynamicMap builds create_dynamic_map(signed=True, max_exponent_bits=7,
// total_bits=8) of bitsandbytes in float32 as torch computes it: for
// i = 0..6 the 2^i midpoints of linspace(0.1, 1, 2^i+1), times 10^(i-6),
// with both signs; then 0 and 1; sorted. Its range is [-0.99296875, 1].
func dynamicMap() [256]float32 {
	codes := make([]float32, 0, 256)
	for i := range 7 {
		bounds := linspace32(0.1, 1, 1<<i+1)
		scale := float32(math.Pow10(i - 6))
		for j := range len(bounds) - 1 {
			mid := float32(bounds[j]+bounds[j+1]) / 2
			v := float32(scale * mid)
			codes = append(codes, v, -v)
		}
	}
	codes = append(codes, 0, 1)
	slices.Sort(codes)
	return [256]float32(codes)
}

// linspace32 is torch.linspace(start, end, steps) in float32: the first
// half counts up from start, the second half down from end.
func linspace32(start, end float32, steps int) []float32 {
	step := (end - start) / float32(steps-1)
	out := make([]float32, steps)
	for i := range out {
		if i < steps/2 {
			out[i] = start + float32(step*float32(i))
		} else {
			out[i] = end - float32(step*float32(steps-1-i))
		}
	}
	return out
}

// midpoints returns the float32 midpoints between consecutive sorted codes.
func midpoints(codes []float32) []float32 {
	m := make([]float32, len(codes)-1)
	for i := range m {
		m[i] = float32((float64(codes[i]) + float64(codes[i+1])) / 2)
	}
	return m
}

// nearestCode returns the index of the code nearest to x given the
// midpoints between consecutive codes; x exactly on a midpoint takes the
// lower code, as bitsandbytes' quantiser does (its CUDA kernel compares
// x > midpoint).
func nearestCode(thresholds []float32, x float32) uint8 {
	i, _ := slices.BinarySearch(thresholds, x)
	return uint8(i)
}

// quantizeBlockwise cuts x into blocks of size (the last may be shorter)
// and returns one absmax scale per block, max |x| over the block, and one
// code per element: the code nearest to x times the reciprocal of its
// block's scale, as bitsandbytes computes it. A block of zeros gets scale 0
// and the code nearest to 0.
func quantizeBlockwise(x []float32, size int, thresholds []float32) (codes []uint8, scales []float32) {
	codes = make([]uint8, len(x))
	scales = make([]float32, opkit.Groups(len(x), size))
	for b := range scales {
		block := x[b*size : min(len(x), (b+1)*size)]
		for _, v := range block {
			scales[b] = max(scales[b], float32(math.Abs(float64(v))))
		}
		var inv float32
		if scales[b] > 0 {
			inv = 1 / scales[b]
		}
		for i, v := range block {
			codes[b*size+i] = nearestCode(thresholds, v*inv)
		}
	}
	return codes, scales
}

// Weight is a frozen weight w: (D, Dout), the right operand of x @ w,
// stored in QLoRA's 4-bit NormalFloat format with double quantisation
// (Dettmers et al., "QLoRA: Efficient Finetuning of Quantized LLMs", arXiv
// 2305.14314), in the layout of bitsandbytes' quantize_4bit with quant_type
// "nf4", blocksize 64 and compress_statistics=True as its source describes it. The
// tests check the published code values and a block worked by hand from this
// description; they do not compare with bitsandbytes' own output, which needs its
// Python package:
//
//   - Storage order is PyTorch's: an nn.Linear(D, Dout) holds its weight as
//     (out, in) = (Dout, D) = wᵀ, and bitsandbytes flattens that row-major,
//     so storage position o·D + d holds w[d, o].
//   - The flat weight is cut into blocks of 64; each block's absmax
//     (max |w| over it) scales it into [-1, 1] and each element becomes the
//     nearest of the 16 NF4 codes (a midpoint goes to the lower code).
//   - Two codes share a byte, the first element in the high nibble:
//     byte j = code[2j]<<4 | code[2j+1].
//   - The absmax values are quantised again: their mean (the offset) is
//     subtracted and the centred values are quantised blockwise, 256 to a
//     block, to bitsandbytes' signed 8-bit dynamic code book with one
//     float32 scale per block; absmax = code8·scale + offset.
//
// Any size works: when D·Dout is not a multiple of 64 the last block is
// shorter and has its own absmax over the elements it holds, and an odd
// count leaves the low nibble of the last byte 0, as in bitsandbytes. The
// input is rounded to float32 before quantising (bitsandbytes quantises
// float32 or narrower). Two details can differ from bitsandbytes in rare
// last-bit cases: the offset is the float32 mean of the absmax values summed
// in float64 (torch sums in float32), and an 8-bit code exactly on a
// midpoint goes to the lower code (bitsandbytes' CUDA kernel sends some such
// ties up).
type Weight struct {
	rows, cols   int          // D and Dout of w: (D, Dout)
	dtype        tensor.Dtype // the dtype quantised from, which Dequantize returns
	codes        []uint8      // ceil(D·Dout / 2) bytes of packed NF4 codes
	absmaxCodes  []uint8      // one dynamic 8-bit code per block of 64 weights
	absmaxScales []float32    // one scale per 256 absmax codes
	absmaxOffset float32      // the mean of the absmax values
}

// Quantize quantises a float32 or float64 weight w: (D, Dout), the right
// operand of x @ w, to NF4 with double quantisation; a PyTorch nn.Linear
// weight (out, in) is the transpose of w. w is not modified. Its values must
// be finite in float32.
func Quantize(w *tensor.Dense) (*Weight, error) {
	if w == nil {
		return nil, errors.New("nf4: Quantize: weight is nil")
	}
	if w.Dims() != 2 {
		return nil, errors.Errorf("nf4: Quantize: weight has shape %v, expected a matrix (D, Dout)", w.Shape())
	}
	if err := opkit.CheckFloatDtype(w.Dtype(), "nf4: Quantize weight"); err != nil {
		return nil, err
	}
	d, err := opkit.Contiguous(w)
	if err != nil {
		return nil, check.Wrap(err, "nf4: Quantize")
	}
	q := &Weight{rows: d.Shape()[0], cols: d.Shape()[1], dtype: d.Dtype()}
	var flat []float32
	switch data := d.Data().(type) {
	case []float32:
		flat, err = storageOrder(data, q.rows, q.cols)
	case []float64:
		flat, err = storageOrder(data, q.rows, q.cols)
	}
	if err != nil {
		return nil, err
	}
	codes, absmax := quantizeBlockwise(flat, nf4BlockSize, nf4Thresholds)
	q.codes = make([]uint8, opkit.Groups(len(codes), 2))
	for i, c := range codes {
		q.codes[i/2] |= c << (4 * (1 - i%2))
	}
	var sum float64
	for _, a := range absmax {
		sum += float64(a)
	}
	q.absmaxOffset = float32(sum / float64(len(absmax)))
	for b := range absmax {
		absmax[b] -= q.absmaxOffset
	}
	q.absmaxCodes, q.absmaxScales = quantizeBlockwise(absmax, absmaxBlockSize, dynamicThresholds)
	return q, nil
}

// storageOrder returns w: (rows, cols) as float32 in storage order, wᵀ
// row-major, or an error naming the first element that is not finite in
// float32.
func storageOrder[T opkit.Float](w []T, rows, cols int) ([]float32, error) {
	flat := make([]float32, rows*cols)
	for r := range rows {
		for c := range cols {
			v := float32(w[r*cols+c])
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, errors.Errorf("nf4: Quantize: weight element (%d, %d) is %g, expected a value finite in float32",
					r, c, w[r*cols+c])
			}
			flat[c*rows+r] = v
		}
	}
	return flat, nil
}

// absmax recovers the absmax of every block of 64 from double
// quantisation: code8·scale + offset, in float32 as bitsandbytes does.
func (q *Weight) absmax() []float32 { return q.absmaxInto(make([]float32, len(q.absmaxCodes))) }

// absmaxInto writes absmax into a, which holds one value per block.
func (q *Weight) absmaxInto(a []float32) []float32 {
	for b, c := range q.absmaxCodes {
		a[b] = float32(dynamicCodes[c]*q.absmaxScales[b/absmaxBlockSize]) + q.absmaxOffset
	}
	return a
}

// dequantizeRange writes the n weights at storage positions start,
// start+1, ... to dst[0], dst[stride], ...: NF4 code times its block's
// absmax, in float32 as bitsandbytes computes it. absmax is q.absmax().
func dequantizeRange[T opkit.Float](q *Weight, absmax []float32, start, n int, dst []T, stride int) {
	for i := range n {
		p := start + i
		c := q.codes[p/2] >> (4 * (1 - p%2)) & 0xF
		dst[i*stride] = T(nf4Codes[c] * absmax[p/nf4BlockSize])
	}
}

// Dequantize returns the weight w: (D, Dout) in the dtype it was quantised
// from. It materialises the whole weight; Linear does not.
func (q *Weight) Dequantize() *tensor.Dense {
	w := opkit.Zeros(q.dtype, q.rows, q.cols)
	switch data := w.Data().(type) {
	case []float32:
		dequantizeColumns(q, data)
	case []float64:
		dequantizeColumns(q, data)
	}
	return w
}

// dequantizeColumns writes w: (D, Dout) row-major into dst, one storage row
// (a column of w) at a time.
func dequantizeColumns[T opkit.Float](q *Weight, dst []T) {
	absmax := q.absmax()
	for c := range q.cols {
		dequantizeRange(q, absmax, c*q.rows, q.rows, dst[c:], q.cols)
	}
}

// Bytes returns the storage size: the packed codes, one byte of absmax code
// per block of 64, one float32 scale per 256 blocks and the float32 offset.
// The two code books are shared constants and not counted.
func (q *Weight) Bytes() int {
	return len(q.codes) + len(q.absmaxCodes) + 4*len(q.absmaxScales) + 4
}

// BitsPerParameter returns 8·Bytes() / (D·Dout): for a large weight
// 4 + 8/64 + 32/(64·256) ≈ 4.127, the QLoRA paper's figure.
func (q *Weight) BitsPerParameter() float64 {
	return 8 * float64(q.Bytes()) / float64(q.rows*q.cols)
}

// Shape returns the shape (D, Dout) of the weight.
func (q *Weight) Shape() tensor.Shape { return tensor.Shape{q.rows, q.cols} }

// Dtype returns the dtype the weight was quantised from.
func (q *Weight) Dtype() tensor.Dtype { return q.dtype }

// String describes the weight, for graph dumps.
func (q *Weight) String() string { return fmt.Sprintf("NF4%v", q.Shape()) }
