package c4

import (
	"io"
	"strings"
	"testing"
)

func TestShardReaderReadsEveryDocument(t *testing.T) {
	dir := t.TempDir()
	// A blank line in the middle and no newline after the last line.
	p := writeFile(t, dir, "s.json.gz", gzipped(t,
		`{"text":"a\nb","timestamp":"2019-04-25T12:57:54Z","url":"u1"}`+"\n\n"+`{"url":"u2","text":"é \"q\""}`))
	r, err := openShard(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := []struct {
		doc  Document
		line int
	}{
		{Document{Text: "a\nb", Timestamp: "2019-04-25T12:57:54Z", URL: "u1"}, 1},
		{Document{Text: `é "q"`, URL: "u2"}, 3},
	}
	for _, w := range want {
		d, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if d != w.doc || r.Line() != w.line {
			t.Errorf("got %+v at line %d, want %+v at line %d", d, r.Line(), w.doc, w.line)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last document: %v, want io.EOF", err)
	}
}

func TestShardReaderErrorsNameFileAndLine(t *testing.T) {
	good := `{"text":"fine"}` + "\n"
	full := gzipped(t, strings.Repeat(good, 2000))
	cases := []struct {
		name string
		data []byte
		want string // the error must contain it; every error also names the file
	}{
		{"invalid JSON", gzipped(t, good+`{"text":"unterminated`+"\n"), "line 2: invalid JSON"},
		{"no text", gzipped(t, good+good+`{"url":"u"}`+"\n"), `line 3: no "text" string in {"url":"u"}`},
		{"null text", gzipped(t, `{"text":null}`+"\n"), `line 1: no "text" string`},
		{"text not a string", gzipped(t, good+`{"text":42}`+"\n"), `line 2: field "text" is a JSON number, expected a string`},
		{"url not a string", gzipped(t, `{"text":"t","url":["a"]}`+"\n"), `line 1: field "url" is a JSON array, expected a string`},
		{"not an object", gzipped(t, `["text"]`+"\n"), "line 1: line is a JSON array, expected an object"},
		// 2000 lines compress to a few dozen bytes; cut the stream in the middle.
		{"truncated gzip", full[:len(full)/2], "gzip data is truncated"},
		{"corrupt checksum", append(append([]byte{}, full[:len(full)-8]...), 0, 0, 0, 0, 0, 0, 0, 0), "after line 2000: corrupt gzip data: gzip: invalid checksum"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "c4-train.00000-of-00001.json.gz", c.data)
			r, err := openShard(nil, p)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for err == nil {
				_, err = r.Next()
			}
			if err == io.EOF || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "c4: "+p+": ") {
				t.Errorf("error %q, want c4: %s: ... %s", err, p, c.want)
			}
		})
	}
}

// TestShardLinesAreBounded: a line beyond maxLineBytes is an error, not a
// read of the whole stream into memory; a long line below it reads whole.
func TestShardLinesAreBounded(t *testing.T) {
	defer func(m int) { maxLineBytes = m }(maxLineBytes)
	maxLineBytes = 200 << 10
	long := `{"text":"` + strings.Repeat("a", 150<<10) + `"}` + "\n"
	p := writeFile(t, t.TempDir(), "c4-train.00000-of-00001.json.gz", gzipped(t, long+strings.Repeat("b", 1<<20)))
	r, err := openShard(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if d, err := r.Next(); err != nil || len(d.Text) != 150<<10 {
		t.Fatalf("a 150 KiB document: %d bytes, %v", len(d.Text), err)
	}
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "line 2 is longer than 204800 bytes, expected one JSON document per line") {
		t.Fatalf("a 1 MiB line without a newline: %v", err)
	}
}

func TestOpenShardErrors(t *testing.T) {
	dir := t.TempDir()
	plain := writeFile(t, dir, "plain.json.gz", []byte(`{"text":"not compressed"}`+"\n"))
	cases := []struct{ path, want string }{
		{plain, "c4: " + plain + ": not a gzip file"},
		{dir + "/missing.json.gz", "c4: open " + dir + "/missing.json.gz: no such file"},
	}
	for _, c := range cases {
		if _, err := openShard(nil, c.path); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("openShard(%s): %v, want %s...", c.path, err, c.want)
		}
	}
}
