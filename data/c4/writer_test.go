package c4

import (
	"bytes"
	"reflect"
	"testing"
)

func TestWriteShardRoundTrip(t *testing.T) {
	docs := []Document{
		{Text: "first <b>&</b>\nline two", Timestamp: "2019-04-25T12:57:54Z", URL: "https://example.com/?a=1&b=2"},
		{Text: "", URL: "empty text is still a document"},
	}
	var a, b bytes.Buffer
	if err := WriteShard(&a, docs); err != nil {
		t.Fatal(err)
	}
	if err := WriteShard(&b, docs); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes of the same documents differ")
	}
	p := writeFile(t, t.TempDir(), "c4-train.00000-of-00001.json.gz", a.Bytes())
	if got := readAll(t, Shards{}, p); !reflect.DeepEqual(got, docs) {
		t.Errorf("read back %+v, want %+v", got, docs)
	}
	// HTML characters are written as they are, as in C4's files.
	if text := ungzip(t, a.Bytes()); !bytes.Contains(text, []byte("<b>&</b>")) {
		t.Errorf("shard text %q escapes HTML", text)
	}
}
