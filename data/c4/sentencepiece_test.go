package c4

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// lines reads a fixture file, one entry per line.
func lines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sentencepiece", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestSentencePieceMatchesReference checks Encode and Decode against what SentencePiece
// itself (spm_encode, spm_decode 0.1.97) makes of the cases in testdata/sentencepiece:
// NFKC and whitespace normalization, unknown characters, the Viterbi segmentation.
func TestSentencePieceMatchesReference(t *testing.T) {
	cases := lines(t, "cases.txt")
	for _, model := range []string{"t5like", "identity"} {
		sp, err := LoadSentencePiece(filepath.Join("testdata", "sentencepiece", model+".model"))
		if err != nil {
			t.Fatal(err)
		}
		ids, decoded := lines(t, model+".ids"), lines(t, model+".decoded")
		if len(ids) != len(cases) || len(decoded) != len(cases) {
			t.Fatalf("%s: %d cases, %d id lines, %d decoded lines", model, len(cases), len(ids), len(decoded))
		}
		for i, text := range cases {
			var want []int
			for _, f := range strings.Fields(ids[i]) {
				id, err := strconv.Atoi(f)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, id)
			}
			got := sp.Encode(text)
			if len(got) != len(want) || len(want) > 0 && !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Encode(%q)\n got %v\nwant %v", model, text, got, want)
			}
			if got := sp.Decode(want); got != decoded[i] {
				t.Errorf("%s: Decode(%v) = %q, want %q", model, want, got, decoded[i])
			}
		}
	}
}

func TestSentencePieceSpecialIDs(t *testing.T) {
	cases := []struct {
		model           string
		vocab, eos, pad int
	}{
		{"t5like", 400, 1, 0},   // t5-base's pad 0 and EOS 1
		{"identity", 400, 2, 2}, // SentencePiece's default EOS 2 and no pad: PAD is EOS
	}
	for _, c := range cases {
		sp, err := LoadSentencePiece(filepath.Join("testdata", "sentencepiece", c.model+".model"))
		if err != nil {
			t.Fatal(err)
		}
		if sp.VocabSize() != c.vocab || sp.EOS() != c.eos || sp.PAD() != c.pad {
			t.Errorf("%s: vocabulary %d, EOS %d, PAD %d, want %d, %d, %d", c.model, sp.VocabSize(), sp.EOS(), sp.PAD(), c.vocab, c.eos, c.pad)
		}
		if got := sp.Decode([]int{c.eos, c.pad, -1, c.vocab}); got != "" {
			t.Errorf("%s: Decode of special and out-of-range ids = %q, want \"\"", c.model, got)
		}
	}
}

// appendField appends one protobuf field: a []byte, string, float32 or integer.
func appendField(b []byte, num protowire.Number, v any) []byte {
	switch v := v.(type) {
	case []byte:
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
	case string:
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), v)
	case float32:
		return protowire.AppendFixed32(protowire.AppendTag(b, num, protowire.Fixed32Type), math.Float32bits(v))
	case int:
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), uint64(v))
	}
	panic("appendField: unsupported type")
}

// handModel is a ModelProto written field by field: seven pieces, no trainer or
// normalizer spec, so every setting is the proto's default (unigram; unknown 0, EOS 2,
// no pad; a dummy prefix, extra whitespace removed, no character map).
func handModel() []byte {
	var m []byte
	for _, p := range []struct {
		text  string
		score float32
		kind  int
	}{
		{"<unk>", 0, 2}, {"<s>", 0, 3}, {"</s>", 0, 3},
		{"▁a", -1, 1}, {"b", -2, 1}, {"▁ab", -2.5, 1}, {"▁", -3, 1},
	} {
		var piece []byte
		piece = appendField(piece, 1, p.text)
		piece = appendField(piece, 2, p.score)
		piece = appendField(piece, 3, p.kind)
		m = appendField(m, 1, piece)
	}
	return m
}

// TestSentencePieceHandModel checks the segmentation against sums worked out by hand.
func TestSentencePieceHandModel(t *testing.T) {
	sp, err := newSentencePiece(handModel())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text    string
		want    []int
		decoded string
	}{
		// "▁ab▁b": ▁ab ▁ b scores -2.5-3-2 = -7.5, better than ▁a b ▁ b at -1-2-3-2 = -8.
		{"ab  b ", []int{5, 6, 4}, "ab b"},
		// c has no piece: unknown, scored -3-10; the run "cc" is one unknown piece.
		{" ab cc", []int{5, 6, 0}, "ab  ⁇ "},
		{"a", []int{3}, "a"},
		{"   ", nil, ""},
	}
	for _, c := range cases {
		got := sp.Encode(c.text)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
		if d := sp.Decode(got); d != c.decoded {
			t.Errorf("Decode(%v) = %q, want %q", got, d, c.decoded)
		}
	}
	if sp.EOS() != 2 || sp.PAD() != 2 || sp.VocabSize() != 7 {
		t.Errorf("EOS %d, PAD %d, vocabulary %d, want the defaults 2, 2 (EOS) and 7", sp.EOS(), sp.PAD(), sp.VocabSize())
	}
}

func TestLoadSentencePieceErrors(t *testing.T) {
	dir := t.TempDir()
	t5, err := os.ReadFile(filepath.Join("testdata", "sentencepiece", "t5like.model"))
	if err != nil {
		t.Fatal(err)
	}
	withTrainer := func(fields ...any) []byte {
		var spec []byte
		for i := 0; i < len(fields); i += 2 {
			spec = appendField(spec, protowire.Number(fields[i].(int)), fields[i+1])
		}
		return appendField(handModel(), 2, spec)
	}
	cases := []struct {
		name string
		data []byte // nil: no file
		want string
	}{
		{"missing", nil, "no such file"},
		{"empty", []byte{}, "not a SentencePiece model: no pieces"},
		{"text", []byte("this is not a protobuf\n"), "not a SentencePiece model, or one cut short (23 bytes): malformed protobuf"},
		{"truncated", t5[:len(t5)/2], "not a SentencePiece model, or one cut short (" + strconv.Itoa(len(t5)/2) + " bytes): malformed protobuf"},
		{"bpe", nil, "model type BPE, expected unigram (t5-base's)"},
		{"byte fallback", withTrainer(35, 1), "byte fallback is on, expected it off"},
		{"eos not control", withTrainer(42, 4), "end-of-sentence id 4, expected a control piece of 7"},
		{"unk not unknown", withTrainer(40, 3), "unknown id 3, expected the unknown piece of 7"},
		{"pad out of range", withTrainer(43, 7), "pad id 7, expected a control piece of 7"},
		{"piece too long", appendField(handModel(), 1, appendField(appendField(nil, 1, strings.Repeat("é", 513)), 3, 1)),
			"piece 7 is 513 characters long; SentencePiece's trainer makes none longer than 512"},
		{"short character map", appendField(handModel(), 3, appendField(nil, 2, []byte{1, 0, 0})), "precompiled character map of 3 bytes is too short"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name+".model")
		switch {
		case c.name == "bpe":
			p = filepath.Join("testdata", "sentencepiece", "bpe.model")
		case c.data != nil:
			writeFile(t, dir, c.name+".model", c.data)
		}
		_, err := LoadSentencePiece(p)
		if err == nil || !strings.HasPrefix(err.Error(), "c4: sentencepiece model") || !strings.Contains(err.Error(), p) ||
			!strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want c4: sentencepiece model ...%s...: ...%s", c.name, err, p, c.want)
		}
	}
}

// TestSentencePieceStream runs the paper's pipeline with the t5-like tokenizer: every
// row ends with EOS 1, then PAD 0.
func TestSentencePieceStream(t *testing.T) {
	sp, err := LoadSentencePiece(filepath.Join("testdata", "sentencepiece", "t5like.model"))
	if err != nil {
		t.Fatal(err)
	}
	shards, err := Default("validation")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStream(shards, sp, Config{SeqLen: 32, BatchSize: 4, Shuffle: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	for r := range b.Rows {
		if row := b.Inputs[r*32 : (r+1)*32]; row[31] != 1 {
			t.Errorf("row %d = %v: want a document's first 31 pieces, then EOS 1", r, row)
		}
	}
	if first := sp.Decode(b.Inputs[:31]); !strings.HasPrefix(first, "Romantic news concerns") {
		t.Errorf("first row decodes to %q, want the first document's start", first)
	}
}
