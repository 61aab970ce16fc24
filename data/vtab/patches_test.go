package vtab

import (
	"slices"
	"testing"
)

func TestPatches(t *testing.T) {
	// Two 6×6 images whose value at (y, x, c) encodes its place: 1000·i + 100·y + 10·x + c.
	const size, p = 6, 3
	b := &Batch{Size: size, Labels: []int{0, 1}, Index: []int{0, 1}}
	for i := range 2 {
		for y := range size {
			for x := range size {
				for c := range Channels {
					b.X = append(b.X, float32(1000*i+100*y+10*x+c))
				}
			}
		}
	}
	orig := slices.Clone(b.X)
	got, err := b.Patches(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 4, p * p * Channels}; !slices.Equal(got.Shape(), want) {
		t.Fatalf("shape %v, want %v", got.Shape(), want)
	}
	data := got.Data().([]float32)
	// Patch k of image i covers rows 3·(k/2).. and columns 3·(k%2)..; element
	// (dy·p + dx)·Channels + c of it is pixel (3·(k/2) + dy, 3·(k%2) + dx), channel c.
	for i := range 2 {
		for k := range 4 {
			for dy := range p {
				for dx := range p {
					for c := range Channels {
						y, x := p*(k/2)+dy, p*(k%2)+dx
						want := float32(1000*i + 100*y + 10*x + c)
						at := (i*4+k)*p*p*Channels + (dy*p+dx)*Channels + c
						if data[at] != want {
							t.Fatalf("image %d patch %d element (%d, %d, %d) = %v, want %v", i, k, dy, dx, c, data[at], want)
						}
					}
				}
			}
		}
	}
	if !slices.Equal(b.X, orig) {
		t.Error("Patches changed the batch")
	}
	for _, bad := range []int{0, -3, 4, 7} {
		if _, err := b.Patches(bad); err == nil {
			t.Errorf("patch size %d: no error", bad)
		}
	}
	_, err = b.Patches(4)
	errorHas(t, err, "vtab: patch size 4, expected a divisor of the image size 6")
}
