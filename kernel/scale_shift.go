package kernel

// ScaleShiftRows writes out[t, j] = a[t, j]·w[j] + b[j] over rows of width d
// (w nil: no scale; b nil: no shift).
func ScaleShiftRows[T Float](out, a, w, b []T, d int) {
	for t := 0; t*d < len(a); t++ {
		row, orow := a[t*d:(t+1)*d], out[t*d:(t+1)*d]
		copy(orow, row)
		if w != nil {
			for j, wj := range w {
				orow[j] *= wj
			}
		}
		if b != nil {
			for j, bj := range b {
				orow[j] += bj
			}
		}
	}
}
