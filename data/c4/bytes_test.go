package c4

import (
	"reflect"
	"testing"
)

func TestByteTokenizerRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tok := ByteTokenizer{}
	for _, text := range []string{"", "The jury said.", "naïve — 日本", string(all), "\xff\xfe invalid UTF-8"} {
		ids := tok.Encode(text)
		if len(ids) != len(text) {
			t.Errorf("Encode(%q): %d ids, want one per byte (%d)", text, len(ids), len(text))
		}
		for i, id := range ids {
			if id != int(text[i])+3 {
				t.Errorf("Encode(%q)[%d] = %d, want byte %d + 3", text, i, id, text[i])
			}
		}
		if got := tok.Decode(ids); got != text {
			t.Errorf("Decode(Encode(%q)) = %q", text, got)
		}
	}
}

func TestByteTokenizerIds(t *testing.T) {
	tok := ByteTokenizer{}
	if tok.PAD() != 0 || tok.EOS() != 1 || tok.VocabSize() != 259 {
		t.Errorf("PAD %d, EOS %d, VocabSize %d, want 0, 1, 259 (ByT5's layout)", tok.PAD(), tok.EOS(), tok.VocabSize())
	}
	// Specials, the reserved id and ids outside the vocabulary decode to nothing.
	if got := tok.Decode([]int{0, 1, 2, 'h' + 3, 'i' + 3, 259, -1, 1}); got != "hi" {
		t.Errorf("Decode with special ids = %q, want %q", got, "hi")
	}
	if got := tok.Encode("\x00\xff"); !reflect.DeepEqual(got, []int{3, 258}) {
		t.Errorf("Encode of bytes 0 and 255 = %v, want [3 258]", got)
	}
}
