package c4

import (
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// byteIDs is the byte tokenizer written out independently: byte b is id b+3.
func byteIDs(text string) []int {
	ids := make([]int, len(text))
	for i := range len(text) {
		ids[i] = int(text[i]) + 3
	}
	return ids
}

// allBatches reads a stream to io.EOF.
func allBatches(t *testing.T, s *Stream) []Batch {
	t.Helper()
	var bs []Batch
	for {
		b, err := s.Next()
		if err == io.EOF {
			return bs
		}
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
}

func newTestStream(t *testing.T, shards Shards, cfg Config) *Stream {
	t.Helper()
	s, err := NewStream(shards, ByteTokenizer{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStreamUnpacked checks the paper's rows across two shards read in order: each
// document truncated to SeqLen-1 bytes, then EOS, then PAD; targets shifted by one with
// -100 after the document; the last batch filled with ignored PAD rows.
func TestStreamUnpacked(t *testing.T) {
	const seqLen, batchSize = 12, 3
	shards := testShards(t, 2, 5)
	var docs []Document
	for _, p := range shards.Paths {
		docs = append(docs, readAll(t, shards, p)...)
	}
	bs := allBatches(t, newTestStream(t, shards, Config{SeqLen: seqLen, BatchSize: batchSize, Shuffle: 1}))
	if len(bs) != 4 || bs[3].Rows != 1 {
		t.Fatalf("%d batches, want 4: 10 documents in rows of 3, the last batch with 1 row", len(bs))
	}
	row := 0
	for _, b := range bs {
		if b.BatchSize != batchSize || b.SeqLen != seqLen || len(b.Inputs) != batchSize*seqLen || len(b.Targets) != batchSize*seqLen {
			t.Fatalf("batch shape %dx%d with %d inputs and %d targets, want %dx%d", b.BatchSize, b.SeqLen, len(b.Inputs), len(b.Targets), batchSize, seqLen)
		}
		tokens := 0
		for r := range batchSize {
			wantIn, wantTg := make([]int, seqLen), make([]int, seqLen)
			for i := range seqLen {
				wantTg[i] = -100
			}
			if r < b.Rows {
				ids := byteIDs(docs[row].Text)
				ids = append(ids[:min(len(ids), seqLen-1)], 1)
				copy(wantIn, ids)
				copy(wantTg, ids[1:])
				tokens += len(ids)
				row++
			}
			if in := b.Inputs[r*seqLen : (r+1)*seqLen]; !reflect.DeepEqual(in, wantIn) {
				t.Errorf("row %d inputs %v, want %v", row, in, wantIn)
			}
			if tg := b.Targets[r*seqLen : (r+1)*seqLen]; !reflect.DeepEqual(tg, wantTg) {
				t.Errorf("row %d targets %v, want %v", row, tg, wantTg)
			}
		}
		if b.Tokens != tokens {
			t.Errorf("Tokens = %d, want %d", b.Tokens, tokens)
		}
	}
}

// TestStreamPacked checks that packed rows are consecutive stretches of all documents
// (each followed by EOS) across rows, batches and shards, with every target the next
// token.
func TestStreamPacked(t *testing.T) {
	const seqLen, batchSize = 8, 2
	shards := testShards(t, 2, 5)
	var all []int
	for _, p := range shards.Paths {
		for _, d := range readAll(t, shards, p) {
			all = append(append(all, byteIDs(d.Text)...), 1)
		}
	}
	bs := allBatches(t, newTestStream(t, shards, Config{SeqLen: seqLen, BatchSize: batchSize, Shuffle: 1, Pack: true}))
	at := 0
	for _, b := range bs {
		for r := range b.Rows {
			in, tg := b.Inputs[r*seqLen:(r+1)*seqLen], b.Targets[r*seqLen:(r+1)*seqLen]
			for i := range seqLen {
				wantIn, wantTg := 0, -100
				if at+i < len(all) {
					wantIn = all[at+i]
				}
				if at+i+1 < len(all) {
					wantTg = all[at+i+1]
				}
				if in[i] != wantIn || tg[i] != wantTg {
					t.Fatalf("token %d: input %d target %d, want %d and %d", at+i, in[i], tg[i], wantIn, wantTg)
				}
			}
			at += seqLen
		}
	}
	// Every token is an input, except a last lone EOS with nothing to predict.
	if at < len(all)-1 {
		t.Errorf("rows hold %d tokens, want at least %d of %d", at, len(all)-1, len(all))
	}
}

// docOrder decodes the documents of unpacked batches back to their "s1d04" names.
func docOrder(bs []Batch) []string {
	var names []string
	for _, b := range bs {
		for r := range b.Rows {
			names = append(names, ByteTokenizer{}.Decode(b.Inputs[r*b.SeqLen:r*b.SeqLen+5]))
		}
	}
	return names
}

func TestStreamShuffleIsSeededPermutation(t *testing.T) {
	shards := testShards(t, 3, 5)
	read := func(seed int64) []string {
		return docOrder(allBatches(t, newTestStream(t, shards, Config{SeqLen: 8, BatchSize: 4, Shuffle: 3, Seed: seed})))
	}
	inOrder := docOrder(allBatches(t, newTestStream(t, shards, Config{SeqLen: 8, BatchSize: 4, Shuffle: 1})))
	a, again, other := read(42), read(42), read(43)
	if !reflect.DeepEqual(a, again) {
		t.Errorf("seed 42 gave %v, then %v", a, again)
	}
	if reflect.DeepEqual(a, inOrder) || reflect.DeepEqual(a, other) {
		t.Errorf("seed 42 gave %v, seed 43 %v, file order %v: want three orders", a, other, inOrder)
	}
	if !reflect.DeepEqual(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(inOrder))) || len(a) != 15 {
		t.Errorf("shuffled %v is not a permutation of %v", a, inOrder)
	}
}

func TestStreamRepeatStartsNewEpochs(t *testing.T) {
	shards := testShards(t, 2, 3)
	s := newTestStream(t, shards, Config{SeqLen: 8, BatchSize: 3, Shuffle: 2, Repeat: true})
	var epochs [3][]string
	for range 6 { // 18 documents: three passes over 6
		e := s.Position().Epoch
		b, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		epochs[e] = append(epochs[e], docOrder([]Batch{b})...)
	}
	if s.Position().Epoch != 3 {
		t.Errorf("after three passes Position().Epoch = %d, want 3", s.Position().Epoch)
	}
	for e, names := range epochs {
		if len(names) != 6 {
			t.Errorf("epoch %d: %v, want the 6 documents", e, names)
		}
	}
	if reflect.DeepEqual(epochs[0], epochs[1]) && reflect.DeepEqual(epochs[1], epochs[2]) {
		t.Errorf("three epochs in the same order %v, want each shuffled afresh", epochs[0])
	}
}

// TestStreamEpochBySeek checks that a stream without Repeat, sought to the next epoch
// after io.EOF, gives that epoch as a repeating stream does.
func TestStreamEpochBySeek(t *testing.T) {
	shards := testShards(t, 2, 3)
	cfg := Config{SeqLen: 8, BatchSize: 3, Shuffle: 2}
	s := newTestStream(t, shards, cfg)
	first := allBatches(t, s)
	if err := s.Seek(Cursor{Epoch: 1}); err != nil {
		t.Fatal(err)
	}
	second := allBatches(t, s)
	cfg.Repeat = true
	r := newTestStream(t, shards, cfg)
	var both []Batch
	for range 4 {
		b, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		both = append(both, b)
	}
	if !reflect.DeepEqual(append(first, second...), both) {
		t.Errorf("epochs 0 and 1 by Seek: %v then %v; with Repeat: %v", docOrder(first), docOrder(second), docOrder(both))
	}
}

// TestStreamResume saves the position before every batch, and checks that a new stream
// sought there, through a JSON round trip, gives the same next batches.
func TestStreamResume(t *testing.T) {
	shards := testShards(t, 3, 7)
	for _, cfg := range []Config{
		{SeqLen: 10, BatchSize: 3, Shuffle: 4, Seed: 5, Repeat: true},
		{SeqLen: 10, BatchSize: 3, Shuffle: 4, Seed: 5, Repeat: true, Pack: true},
		{SeqLen: 6, BatchSize: 2, Shuffle: 1, Pack: true},
		{SeqLen: 6, BatchSize: 4, Shuffle: 30},
	} {
		ref := newTestStream(t, shards, cfg)
		var positions []Cursor
		var batches []Batch
		for range 30 {
			positions = append(positions, ref.Position())
			b, err := ref.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			batches = append(batches, b)
		}
		for k, pos := range positions {
			data, err := json.Marshal(pos)
			if err != nil {
				t.Fatal(err)
			}
			var c Cursor
			if err := json.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			s := newTestStream(t, shards, cfg)
			if err := s.Seek(c); err != nil {
				t.Fatalf("%+v: Seek(%s): %v", cfg, data, err)
			}
			for j := k; j < min(k+3, len(batches)); j++ {
				b, err := s.Next()
				if err != nil || !reflect.DeepEqual(b, batches[j]) {
					t.Fatalf("%+v: resumed at %s (before batch %d): batch %d differs (%v)", cfg, data, k, j, err)
				}
			}
			if k == len(batches) {
				if _, err := s.Next(); err != io.EOF {
					t.Errorf("%+v: resumed at the end %s: %v, want io.EOF", cfg, data, err)
				}
			}
		}
	}
}

func TestStreamSeekErrors(t *testing.T) {
	shards := testShards(t, 2, 4)
	first := shards.Paths[0][strings.LastIndexByte(shards.Paths[0], '/')+1:]
	cases := []struct {
		name   string
		pack   bool
		cursor Cursor
		want   string // from Seek, or from Next when Seek accepts the cursor
	}{
		{"token in unpacked stream", false, Cursor{Token: 3}, "c4: cursor token 3, expected 0 for an unpacked stream"},
		{"negative", false, Cursor{Line: -1}, "has a negative field"},
		{"shard past the end", false, Cursor{Shard: 3}, "c4: cursor shard 3, but there are 2 shards"},
		{"other data", false, Cursor{File: "c4-train.00007-of-01024.json.gz"}, `c4: cursor names shard "c4-train.00007-of-01024.json.gz" at index 0 of epoch 0, but this stream has "` + first + `" there`},
		{"line past the end", false, Cursor{Line: 9}, "c4: " + shards.Paths[0] + ": has 4 lines, expected at least 10 to skip to line 10"},
		{"skip past the window", false, Cursor{Line: 1, Skip: 4}, "c4: cursor skips 4 documents, but the window after line 1 of " + shards.Paths[0] + " holds 1"},
		{"token past the document", true, Cursor{Token: 500}, "c4: cursor skips 500 tokens, but its document (" + first + ", document 0 of the window after line 0) has"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestStream(t, shards, Config{SeqLen: 8, BatchSize: 2, Shuffle: 1, Pack: c.pack})
			err := s.Seek(c.cursor)
			if err == nil {
				_, err = s.Next()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Seek(%+v) then Next: %v, want %s", c.cursor, err, c.want)
			}
		})
	}
}

// badTokenizer is a byte tokenizer whose EOS lies outside its vocabulary.
type badTokenizer struct{ ByteTokenizer }

func (badTokenizer) EOS() int { return 259 }

func TestNewStreamErrors(t *testing.T) {
	shards := testShards(t, 1, 1)
	cases := []struct {
		name   string
		shards Shards
		tok    Tokenizer
		cfg    Config
		want   string
	}{
		{"no shards", Shards{}, ByteTokenizer{}, Config{}, "c4: no shard files given"},
		{"no tokenizer", shards, nil, Config{}, "c4: no tokenizer"},
		{"bad config", shards, ByteTokenizer{}, Config{SeqLen: 1}, "c4: sequence length 1, expected at least 2"},
		{"bad special id", shards, badTokenizer{}, Config{}, "c4: tokenizer's special id 259 is outside its vocabulary of 259"},
	}
	for _, c := range cases {
		if _, err := NewStream(c.shards, c.tok, c.cfg); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}

// TestStreamPacksTheEmbeddedCorpus reads the whole validation split packed: every byte
// of every document and one EOS each reach the rows, bar a last lone EOS.
func TestStreamPacksTheEmbeddedCorpus(t *testing.T) {
	shards, err := Default("validation")
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, d := range readAll(t, shards, shards.Paths[0]) {
		want += len(d.Text) + 1
	}
	got := 0
	for _, b := range allBatches(t, newTestStream(t, shards, Config{SeqLen: 256, BatchSize: 64, Pack: true})) {
		got += b.Tokens
	}
	if got != want && got != want-1 {
		t.Errorf("packed batches hold %d tokens, want %d", got, want)
	}
}

// TestStreamWithoutDocuments checks that a pass over shards holding no document (an
// empty gzip stream, or blank lines only) is an error naming the shards, with and
// without Repeat, instead of a loop that starts epoch after empty epoch.
func TestStreamWithoutDocuments(t *testing.T) {
	dir := t.TempDir()
	shards := Shards{Paths: []string{
		writeFile(t, dir, "empty.json.gz", gzipped(t, "")),
		writeFile(t, dir, "blank.json.gz", gzipped(t, "\n\n  \n")),
	}}
	for _, cfg := range []Config{
		{SeqLen: 8, BatchSize: 2, Repeat: true},
		{SeqLen: 8, BatchSize: 2, Repeat: true, Pack: true},
		{SeqLen: 8, BatchSize: 2, Shuffle: 1},
	} {
		s := newTestStream(t, shards, cfg)
		done := make(chan error, 1)
		go func() { _, err := s.Next(); done <- err }()
		select {
		case err := <-done:
			want := "c4: shards " + shards.Paths[0] + ", " + shards.Paths[1] + " hold no documents"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%+v: Next: %v, want %s", cfg, err, want)
			}
		case <-time.After(5 * time.Second): // a pass over two tiny files takes microseconds
			t.Fatalf("%+v: Next has not returned after 5 s", cfg)
		}
	}
}
