package main

import "testing"

func TestBrownText(t *testing.T) {
	// Shaped like the corpus: a heading, a paragraph of two sentences (the second on a
	// line without a tab, its semicolon doubled as the corpus does), a fraction, brackets,
	// both kinds of quotes, then a second paragraph.
	src := "\n\n'/' Local/jj-hl news/nn-hl '/'\n\n\n" +
		"\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, it/pps said/vbd ./.\n" +
		"It/pps cost/vbd 1-1/2/cd cents/nns (/( about/rb )/) ;/. ;/.\n" +
		"why/wrb ?/.\n\n\n" +
		"\tHe/pps said/vbd :/: '/' Don't/do* worry/vb '/' ./.\n"
	want := "'Local news'\n" +
		`The jury said "no evidence", it said. It cost 1-1/2 cents (about); why?` + "\n" +
		"He said: 'Don't worry'."
	if got := brownText(src); got != want {
		t.Errorf("brownText:\n got %q\nwant %q", got, want)
	}
}
