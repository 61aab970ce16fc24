package chart

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/velora-go/velora/train"
)

// TestSavePNGPutsTheLegendBeside draws a bar chart and a line chart and
// checks that each image is wider than its plot by the legend's column,
// that the column is blank below the legend, and that the folder holds
// the image alone.
func TestSavePNGPutsTheLegendBeside(t *testing.T) {
	bars := plot.New()
	bars.Title.Text = "peaks"
	peaks := []train.Memory{{Params: 3 << 20, Grads: 1 << 20, Optimizer: 2 << 20, Activations: 9 << 20}, {Params: 3 << 20, Activations: 4 << 20}}
	if err := PeakBars(bars, []string{"none", "VeLoRA"}, peaks, vg.Points(18)); err != nil {
		t.Fatal(err)
	}
	lines := plot.New()
	lines.X.Tick.Marker = StepTicks{}
	if err := plotutil.AddLines(lines, "loss", plotter.XYs{{X: 1, Y: 3}, {X: 2, Y: 2}, {X: 3, Y: 1}}); err != nil {
		t.Fatal(err)
	}
	const w, h = 2 * vg.Inch, 2 * vg.Inch // 192 pixels at the PNG's 96 dpi
	for name, p := range map[string]*plot.Plot{"bars": bars, "lines": lines} {
		dir := t.TempDir()
		path := filepath.Join(dir, name+".png")
		if err := SavePNG(p, w, h, path); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		if b.Dx() <= 192 || b.Dy() < 192 {
			t.Errorf("%s: %v pixels, want wider than the plot's 192 and at least 192 high", name, b)
		}
		for x := 192 + 1; x < b.Dx(); x++ { // the bottom row of the legend's column
			if r, g, bl, _ := img.At(x, b.Dy()-1).RGBA(); r&g&bl != 0xffff {
				t.Errorf("%s: pixel (%d, %d) of the legend's column is not white", name, x, b.Dy()-1)
				break
			}
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
			t.Errorf("%s: the folder holds %v (%v), want the image alone", name, entries, err)
		}
	}
	if err := PeakBars(plot.New(), []string{"one"}, peaks, vg.Points(18)); err == nil {
		t.Error("PeakBars took 1 name for 2 peaks")
	}
}
