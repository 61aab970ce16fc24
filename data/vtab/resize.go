package vtab

// Bicubic resizing as PIL's Image.resize(size, BICUBIC) does it, the resize behind
// torchvision's Resize((224, 224)) in every VTAB-1k baseline: a separable filter, rows
// first, with Keys' cubic kernel (a = -0.5) stretched by the scale factor when
// shrinking, so that it averages over the pixels an output pixel covers
// (antialiasing); weights that would fall outside the image are dropped and the rest
// renormalised. PIL rounds to 8 bits after each pass; this keeps float32 but clips to
// [0, 1] where PIL clips to [0, 255].

// taps is one output sample of a pass: Σ_k w[k] · in[start+k].
type taps struct {
	start int
	w     []float32
}

// cubic is Keys' cubic convolution kernel with a = -0.5 (PIL's bicubic_filter).
func cubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// bicubicTaps gives the taps that resample in samples to out samples, as PIL's
// precompute_coeffs does.
func bicubicTaps(in, out int) []taps {
	scale := float64(in) / float64(out)
	stretch := max(scale, 1) // widens the kernel when shrinking
	support := 2 * stretch   // the kernel is zero beyond ±2
	ts := make([]taps, out)
	for i := range ts {
		center := (float64(i) + 0.5) * scale
		// int() truncates as PIL's (int) cast does; lo is clamped just after.
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		ws := make([]float64, hi-lo)
		sum := 0.0
		for k := range ws {
			ws[k] = cubic((float64(lo+k) - center + 0.5) / stretch)
			sum += ws[k]
		}
		w := make([]float32, len(ws))
		for k := range ws {
			w[k] = float32(ws[k] / sum)
		}
		ts[i] = taps{start: lo, w: w}
	}
	return ts
}

// resize writes src, an (h, w, 3) image, resized to (size, size, 3) into dst.
func resize(dst, src []float32, h, w, size int) {
	tmp := make([]float32, h*size*3) // (h, size, 3): rows resized
	cols := bicubicTaps(w, size)
	for y := range h {
		row := src[y*w*3 : (y+1)*w*3]
		for x, t := range cols {
			for c := range 3 {
				var s float32
				for k, wk := range t.w {
					s += wk * row[(t.start+k)*3+c]
				}
				tmp[(y*size+x)*3+c] = clip01(s)
			}
		}
	}
	rows := bicubicTaps(h, size)
	for y, t := range rows {
		out := dst[y*size*3 : (y+1)*size*3]
		for i := range out {
			var s float32
			for k, wk := range t.w {
				s += wk * tmp[(t.start+k)*size*3+i]
			}
			out[i] = clip01(s)
		}
	}
}

func clip01(v float32) float32 { return min(max(v, 0), 1) }
