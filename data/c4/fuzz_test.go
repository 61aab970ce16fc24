package c4

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"google.golang.org/protobuf/encoding/protowire"
)

// The fuzz tests below feed the shard reader, the stream and the SentencePiece loader
// arbitrary bytes. None may panic or hang; each either refuses the input with an error
// that says where, or returns values that are consistent (documents that survive
// WriteShard, batches of the configured shape that a Seek reproduces, token ids inside
// the vocabulary). go test runs their seeds as ordinary tests; go test -fuzz=FuzzX
// -fuzztime 45s ./data/c4 explores further.

// fuzzDocuments are the first documents of the embedded validation shard.
func fuzzDocuments(tb testing.TB, n int) []Document {
	tb.Helper()
	r, err := openShard(corpus, "embedded/c4-validation.00000-of-00001.json.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	docs := make([]Document, n)
	for i := range docs {
		if docs[i], err = r.Next(); err != nil {
			tb.Fatal(err)
		}
		docs[i].Text = docs[i].Text[:min(len(docs[i].Text), 300)] // small seeds fuzz faster
	}
	return docs
}

// shardText is docs as a shard's uncompressed lines.
func shardText(tb testing.TB, docs []Document) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteShard(&buf, docs); err != nil {
		tb.Fatal(err)
	}
	gz, err := gzip.NewReader(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	text, err := io.ReadAll(gz)
	if err != nil {
		tb.Fatal(err)
	}
	return text
}

// gzipBytes wraps data in a gzip stream of stored (uncompressed) deflate blocks, as
// RFC 1952 and RFC 1951 lay them out: much cheaper than compress/gzip's writer, whose
// state takes hundreds of kilobytes, for the many small inputs of a fuzz run.
func gzipBytes(data []byte) []byte {
	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff} // magic, deflate, no flags, no time, unknown OS
	crc, size := crc32.ChecksumIEEE(data), uint32(len(data))
	for {
		n := min(len(data), 0xffff)
		final := byte(0)
		if n == len(data) {
			final = 1
		}
		out = append(out, final) // BFINAL, BTYPE 00: stored
		out = binary.LittleEndian.AppendUint16(out, uint16(n))
		out = binary.LittleEndian.AppendUint16(out, ^uint16(n))
		out = append(out, data[:n]...)
		if final == 1 {
			break
		}
		data = data[n:]
	}
	out = binary.LittleEndian.AppendUint32(out, crc)
	return binary.LittleEndian.AppendUint32(out, size)
}

// FuzzShardReader reads a shard whose uncompressed lines are data, or, when raw is
// set, whose file is data itself. Every document read must come back unchanged through
// WriteShard, line numbers must grow, and an error must name the file.
func FuzzShardReader(f *testing.F) {
	text := shardText(f, fuzzDocuments(f, 3))
	f.Add(text, false)
	f.Add(gzipBytes(text), true)
	f.Add(gzipBytes(text)[:40], true) // truncated gzip
	f.Add([]byte(`{"text":"a\nb","timestamp":"2019-04-25T12:57:54Z","url":"u1"}`+"\n\n  \n"+`{"url":"u2","text":"é \"q\""}`), false)
	f.Add([]byte(`{"text":"fine"}`+"\n"+`{"url":"no text"}`+"\n"), false)
	f.Add([]byte(`["text"]`+"\n"+`{"text":42}`), false)
	f.Add([]byte("not gzip at all"), true)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		file := data
		if !raw {
			file = gzipBytes(data)
		}
		const name = "c4-train.00000-of-00001.json.gz"
		r, err := openShard(fstest.MapFS{name: {Data: file}}, name)
		if err != nil && !raw {
			t.Fatalf("a gzip stream of the lines does not open: %v", err)
		}
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		defer r.Close()
		var docs []Document
		for line := 0; ; {
			d, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !strings.Contains(err.Error(), name) {
					t.Fatalf("error %q does not name the file", err)
				}
				return
			}
			if r.Line() <= line {
				t.Fatalf("document %d at line %d, after line %d", len(docs), r.Line(), line)
			}
			line = r.Line()
			docs = append(docs, d)
		}
		if !raw {
			lines := bytes.Count(data, []byte("\n"))
			if len(data) > 0 && data[len(data)-1] != '\n' {
				lines++ // the last line has no newline
			}
			if r.Line() != lines {
				t.Fatalf("read %d lines of %d", r.Line(), lines)
			}
		}
		var buf bytes.Buffer
		if err := WriteShard(&buf, docs); err != nil {
			t.Fatal(err)
		}
		again, err := openShard(fstest.MapFS{name: {Data: buf.Bytes()}}, name)
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		for i, want := range docs {
			if got, err := again.Next(); err != nil || got != want {
				t.Fatalf("document %d written and read back as %+v (%v), want %+v", i, got, err, want)
			}
		}
		if _, err := again.Next(); err != io.EOF {
			t.Fatalf("after %d documents written: %v, want io.EOF", len(docs), err)
		}
	})
}

// FuzzStream runs a stream over two shards whose uncompressed lines are a and b, with
// a configuration drawn from the other arguments. Batches must have the configured shape and valid ids, and a stream
// sought to the position before batch k must give the same batches from there on.
func FuzzStream(f *testing.F) {
	docs := fuzzDocuments(f, 4)
	f.Add(shardText(f, docs[:2]), shardText(f, docs[2:]), uint8(16), uint8(2), uint8(3), false, true, uint8(2))
	f.Add(shardText(f, docs[:1]), shardText(f, docs[1:]), uint8(8), uint8(3), uint8(1), true, false, uint8(1))
	f.Add(shardText(f, docs[:3]), []byte("\n\n"), uint8(5), uint8(1), uint8(2), true, true, uint8(5))
	f.Add([]byte(""), []byte("\n  \n"), uint8(4), uint8(2), uint8(0), false, true, uint8(0)) // no document at all
	f.Add(shardText(f, docs[:1]), []byte(`{"text":1}`), uint8(4), uint8(2), uint8(1), false, false, uint8(0))
	f.Fuzz(func(t *testing.T, a, b []byte, seqLen, batch, shuffle uint8, pack, repeat bool, k uint8) {
		fsys := fstest.MapFS{"a.json.gz": {Data: gzipBytes(a)}, "b.json.gz": {Data: gzipBytes(b)}}
		shards := Shards{FS: fsys, Paths: []string{"a.json.gz", "b.json.gz"}}
		cfg := Config{SeqLen: int(seqLen % 40), BatchSize: int(batch % 6), Shuffle: int(shuffle % 6), Seed: int64(k), Pack: pack, Repeat: repeat}
		const calls = 12
		ref, positions, batches, end := fuzzRead(t, shards, cfg, Cursor{}, calls)
		if ref == nil {
			return
		}
		want := ref.Config()
		for i, bt := range batches {
			if bt.BatchSize != want.BatchSize || bt.SeqLen != want.SeqLen || len(bt.Inputs) != bt.BatchSize*bt.SeqLen ||
				len(bt.Targets) != len(bt.Inputs) || bt.Rows < 1 || bt.Rows > bt.BatchSize || bt.Tokens > bt.Rows*bt.SeqLen {
				t.Fatalf("batch %d: %d×%d with %d inputs, %d rows, %d tokens; want %d×%d", i, bt.BatchSize, bt.SeqLen,
					len(bt.Inputs), bt.Rows, bt.Tokens, want.BatchSize, want.SeqLen)
			}
			for j, id := range bt.Inputs {
				if tg := bt.Targets[j]; id < 0 || id >= byteVocab || tg != IgnoreIndex && (tg < 0 || tg >= byteVocab) {
					t.Fatalf("batch %d position %d: input %d, target %d", i, j, id, tg)
				}
			}
		}
		if len(batches) == 0 {
			return
		}
		k = k % uint8(len(batches))
		_, _, again, againEnd := fuzzRead(t, shards, cfg, positions[k], calls-int(k))
		if !reflect.DeepEqual(again, batches[k:]) || fmt.Sprint(againEnd) != fmt.Sprint(end) {
			t.Fatalf("sought to %+v (before batch %d of %d): %d batches (end %v), not the %d that followed it (end %v)",
				positions[k], k, len(batches), len(again), againEnd, len(batches)-int(k), end)
		}
	})
}

// fuzzRead makes a stream, seeks it to c unless c is the start, and reads up to n
// batches, with the position before each. end is what stopped it early: io.EOF or an
// error, which must name a shard. A configuration NewStream refuses gives a nil stream.
func fuzzRead(t *testing.T, shards Shards, cfg Config, c Cursor, n int) (*Stream, []Cursor, []Batch, error) {
	s, err := NewStream(shards, ByteTokenizer{}, cfg)
	if err != nil {
		if cfg.Validate() == nil {
			t.Fatalf("NewStream(%+v): %v", cfg, err)
		}
		return nil, nil, nil, nil
	}
	defer s.Close()
	if c != (Cursor{}) {
		if err := s.Seek(c); err != nil {
			t.Fatalf("Seek(%+v), a position the stream gave: %v", c, err)
		}
	}
	var positions []Cursor
	var batches []Batch
	for range n {
		positions = append(positions, s.Position())
		b, err := s.Next()
		if err == io.EOF {
			return s, positions, batches, err
		}
		if err != nil {
			if !strings.Contains(err.Error(), ".json.gz") {
				t.Fatalf("error %q names no shard", err)
			}
			return s, positions, batches, err
		}
		batches = append(batches, b)
	}
	return s, positions, batches, nil
}

// FuzzSentencePiece loads a model from arbitrary bytes and encodes text with it. A
// model that loads must give ids of its own pieces, and special ids inside its
// vocabulary.
func FuzzSentencePiece(f *testing.F) {
	for _, name := range []string{"identity.model", "bpe.model", "t5like.model"} {
		model, err := os.ReadFile(filepath.Join("testdata", "sentencepiece", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(model, "Hello  wörld\u3000ＡＢＣ ①")
		f.Add(model[:len(model)/2], "truncated")
	}
	f.Add(tinySPModel(), " ab\tba \x00\xff")
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, "") // a piece longer than the file
	f.Fuzz(func(t *testing.T, model []byte, text string) {
		sp, err := newSentencePiece(model)
		if err != nil {
			return
		}
		n := sp.VocabSize()
		if sp.EOS() < 0 || sp.EOS() >= n || sp.PAD() < 0 || sp.PAD() >= n {
			t.Fatalf("EOS %d, PAD %d in a vocabulary of %d", sp.EOS(), sp.PAD(), n)
		}
		ids := sp.Encode(text)
		for _, id := range ids {
			if id < 0 || id >= n || sp.pieces[id].kind != spNormal && sp.pieces[id].kind != spUnknown {
				t.Fatalf("Encode(%q) = %v: id %d is not a normal or unknown piece of %d", text, ids, id, n)
			}
		}
		sp.Decode(append(ids, -1, n, sp.EOS()))
	})
}

// tinySPModel is a unigram model with the unknown piece, EOS, and pieces ▁a, b and ab,
// built field by field from sentencepiece_model.proto.
func tinySPModel() []byte {
	piece := func(text string, score float32, kind uint64) []byte {
		var p []byte
		p = protowire.AppendTag(p, 1, protowire.BytesType)
		p = protowire.AppendString(p, text)
		p = protowire.AppendTag(p, 2, protowire.Fixed32Type)
		p = protowire.AppendFixed32(p, math.Float32bits(score))
		p = protowire.AppendTag(p, 3, protowire.VarintType)
		return protowire.AppendVarint(p, kind)
	}
	var m []byte
	for _, p := range [][]byte{piece("<unk>", 0, spUnknown), piece("</s>", 0, spControl), piece("▁a", -1, spNormal),
		piece("b", -2, spNormal), piece("ab", -2.5, spNormal)} {
		m = protowire.AppendTag(m, 1, protowire.BytesType)
		m = protowire.AppendBytes(m, p)
	}
	var trainer []byte
	trainer = protowire.AppendTag(trainer, 42, protowire.VarintType) // eos_id
	trainer = protowire.AppendVarint(trainer, 1)
	m = protowire.AppendTag(m, 2, protowire.BytesType)
	return protowire.AppendBytes(m, trainer)
}
