package main

import (
	"strings"
	"unicode"
)

// brownText turns one file of the Brown corpus in form C (tagged) into plain text.
//
// Form C holds one sentence per block of lines, blocks apart by blank lines, each token a
// word/tag pair; a line that starts with a tab starts a paragraph, and a line of
// headline tokens (tags ending in -hl) is a heading. The text keeps the words and drops
// the tags (a word may hold a '/' itself, as in 1-1/2/cd, so the tag is what follows the
// last one), puts paragraphs and headings on lines of their own, and joins words with
// spaces except around punctuation (joinWords).
func brownText(src string) string {
	var paragraphs [][]string
	var words []string
	flush := func() {
		if len(words) > 0 {
			paragraphs = append(paragraphs, words)
			words = nil
		}
	}
	for _, line := range strings.Split(src, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		heading := isHeading(fields)
		if heading || strings.HasPrefix(line, "\t") {
			flush()
		}
		for _, tok := range fields {
			if i := strings.LastIndexByte(tok, '/'); i > 0 {
				tok = tok[:i]
			}
			words = append(words, tok)
		}
		if heading {
			flush()
		}
	}
	flush()
	lines := make([]string, len(paragraphs))
	for i, p := range paragraphs {
		lines[i] = joinWords(p)
	}
	return strings.Join(lines, "\n")
}

// isHeading reports whether a line's tokens are a heading: some tags end in -hl, and
// every token whose tag does not is punctuation (the corpus leaves quotes in headings
// untagged).
func isHeading(tokens []string) bool {
	some := false
	for _, t := range tokens {
		switch {
		case strings.HasSuffix(t, "-hl"):
			some = true
		case strings.ContainsFunc(t[:max(strings.LastIndexByte(t, '/'), 0)], isAlnum):
			return false
		}
	}
	return some
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// joinWords joins words with single spaces, but none before closing punctuation and
// none after an opening quote or bracket. The corpus's double-quote tokens (two
// backquotes to open, two apostrophes to close) become ", and a lone ' alternates
// between opening and closing a quotation (the corpus uses it for both). The corpus
// doubles every semicolon (";/. ;/."); a run of them becomes one.
func joinWords(words []string) string {
	var b strings.Builder
	attach := true // no space before the first word
	inQuote := false
	prev := ""
	for _, w := range words {
		if w == ";" && prev == ";" {
			continue
		}
		prev = w
		opening, closing := false, false
		switch w {
		case "``":
			w, opening = `"`, true
		case "''":
			w, closing = `"`, true
		case "'":
			inQuote = !inQuote
			opening, closing = inQuote, !inQuote
		case "(", "[":
			opening = true
		case ",", ".", ";", ":", "?", "!", ")", "]":
			closing = true
		}
		if !attach && !closing {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		attach = opening
	}
	return b.String()
}
