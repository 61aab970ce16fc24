package vtab

import (
	"math/rand"
	"testing"
)

// grey repeats every value of a one-channel image in three channels.
func grey(v []float32) []float32 {
	out := make([]float32, 0, 3*len(v))
	for _, g := range v {
		out = append(out, g, g, g)
	}
	return out
}

// The expected values come from Pillow 9.4.0, Image.fromarray(src, mode).resize((size,
// size), Image.BICUBIC), the resize behind torchvision's Resize in the VTAB-1k
// baselines.
func TestResizeMatchesPillow(t *testing.T) {
	// A smooth 4×5 image, far enough from 0 and 1 that no value is ever clipped, so
	// Pillow's float mode "F" is exact.
	smooth := []float32{
		0.30, 0.35, 0.45, 0.50, 0.52,
		0.40, 0.42, 0.55, 0.60, 0.58,
		0.50, 0.55, 0.62, 0.70, 0.66,
		0.45, 0.52, 0.60, 0.64, 0.61,
	}
	// A hard 3×7 pattern of 0 and 255 in mode "L": the overshoot is clipped, and
	// Pillow rounds to 8 bits after each pass.
	hard := []float32{
		0, 255, 0, 255, 0, 0, 255,
		255, 255, 0, 0, 255, 0, 0,
		0, 0, 255, 255, 255, 0, 255,
	}
	for i := range hard {
		hard[i] /= 255
	}
	for _, c := range []struct {
		name string
		src  []float32
		h, w int
		size int
		want []float32
		tol  float64
	}{
		{"shrink float", smooth, 4, 5, 3, []float32{
			0.3310734, 0.4587166, 0.5304714,
			0.4639456, 0.5844645, 0.6422067,
			0.4919468, 0.6079746, 0.6447647,
		}, 1e-6},
		{"enlarge float", smooth, 4, 5, 9, []float32{
			0.2862519, 0.3017768, 0.3350362, 0.3861188, 0.4405523, 0.4727165, 0.4945842, 0.5094957, 0.5162669,
			0.3065193, 0.3194568, 0.3484022, 0.4018157, 0.4606127, 0.4935252, 0.5136713, 0.5233426, 0.5272271,
			0.3515826, 0.3579484, 0.3759817, 0.4357759, 0.5060772, 0.5402789, 0.5558546, 0.5534849, 0.5507657,
			0.4041305, 0.4069039, 0.4187757, 0.4800294, 0.5547634, 0.5923626, 0.6063328, 0.5918704, 0.5823761,
			0.4567805, 0.4646767, 0.4843511, 0.5333436, 0.5925000, 0.6387534, 0.6603709, 0.6383405, 0.6241788,
			0.4942138, 0.5090651, 0.5397522, 0.5764859, 0.6183848, 0.6705963, 0.6988181, 0.6724480, 0.6555192,
			0.4825336, 0.5015267, 0.5396017, 0.5778052, 0.6170458, 0.6612752, 0.6834890, 0.6586521, 0.6429698,
			0.4512442, 0.4728597, 0.5161298, 0.5607262, 0.6030416, 0.6350321, 0.6474421, 0.6267623, 0.6140122,
			0.4394247, 0.4623165, 0.5080416, 0.5549741, 0.5981105, 0.6251643, 0.6336532, 0.6145404, 0.6029112,
		}, 1e-6},
		// 1.5/255: Pillow's two 8-bit roundings (half a level each) and its
		// fixed-point weights.
		{"shrink 8-bit", hard, 3, 7, 2, scale255(
			128, 82,
			133, 141,
		), 1.5 / 255},
		{"enlarge 8-bit", hard, 3, 7, 5, scale255(
			75, 120, 179, 0, 195,
			158, 112, 113, 53, 110,
			255, 105, 37, 150, 0,
			97, 130, 173, 148, 100,
			0, 148, 255, 135, 180,
		), 1.5 / 255},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := grey(c.src)
			orig := append([]float32(nil), in...)
			got := make([]float32, c.size*c.size*3)
			resize(got, in, c.h, c.w, c.size)
			if d := maxDiff(t, got, grey(c.want)); d > c.tol {
				t.Errorf("max difference from Pillow %g > %g\ngot %v", d, c.tol, got)
			}
			if maxDiff(t, in, orig) != 0 {
				t.Error("resize changed its input")
			}
		})
	}
}

func scale255(levels ...float32) []float32 {
	for i := range levels {
		levels[i] /= 255
	}
	return levels
}

func TestResizeSameSizeIsIdentity(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	src := make([]float32, 7*7*3)
	for i := range src {
		src[i] = rng.Float32()
	}
	got := make([]float32, len(src))
	resize(got, src, 7, 7, 7)
	if d := maxDiff(t, got, src); d != 0 {
		t.Errorf("max difference %g, want 0", d)
	}
}

// Enlarged, a linear ramp stays linear wherever the kernel lies wholly inside the
// image: Keys' kernel reproduces linear functions at any phase. Output pixel i samples
// the input at (i + 0.5)·in/out - 0.5 in pixel coordinates. (Shrinking stretches the
// kernel, whose samples then reproduce a ramp only approximately; the Pillow cases
// cover it.)
func TestResizeKeepsRamps(t *testing.T) {
	const h, w = 5, 40
	ramp := func(x float64) float32 { return float32(0.1 + 0.02*x) } // 0.1 to 0.88
	src := make([]float32, 0, h*w*3)
	for range h {
		for x := range w {
			v := ramp(float64(x))
			src = append(src, v, v, v)
		}
	}
	for _, size := range []int{40, 64, 101} {
		got := make([]float32, size*size*3)
		resize(got, src, h, w, size)
		scale := float64(w) / float64(size)
		const support = 2
		for x := range size {
			center := (float64(x) + 0.5) * scale
			if center-support < 0 || center+support > w {
				continue // taps cut at the border
			}
			want := ramp(center - 0.5)
			for y := range size {
				for c := range 3 {
					// 1e-5: float32 sums of up to 2·support products near 1.
					if g := got[(y*size+x)*3+c]; g-want > 1e-5 || want-g > 1e-5 {
						t.Fatalf("size %d: (%d, %d, %d) = %v, want %v", size, y, x, c, g, want)
					}
				}
			}
		}
	}
}
