package c4

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// spNormalizer rewrites text as SentencePiece's normalizer does before it cuts text into
// pieces (normalizer.cc): each longest match of the model's precompiled character map
// is replaced by its normal form (nmt_nfkc, t5-base's rule, is NFKC plus a few
// whitespace and control-character rules, all compiled into the map), extra whitespace
// is removed, a space is put in front, and spaces become ▁ (U+2581).
type spNormalizer struct {
	spec       spNormalizerSpec
	trie       []uint32 // darts-clone double array
	normalized []byte   // NUL-terminated replacement strings the trie's values point into
}

// spaceSymbol stands for a space inside pieces.
const spaceSymbol = "\u2581"

// newSPNormalizer unpacks the precompiled character map: a little-endian uint32 byte
// size of the trie, the trie's 32-bit units, then the replacement strings.
func newSPNormalizer(spec spNormalizerSpec) (*spNormalizer, error) {
	n := &spNormalizer{spec: spec}
	m := spec.charsmap
	if len(m) == 0 {
		return n, nil
	}
	if len(m) <= 4 {
		return nil, errors.Errorf("precompiled character map of %d bytes is too short", len(m))
	}
	size := int(binary.LittleEndian.Uint32(m))
	if size%4 != 0 || size >= len(m)-4 {
		return nil, errors.Errorf("precompiled character map: trie of %d bytes in a map of %d", size, len(m))
	}
	n.trie = make([]uint32, size/4)
	for i := range n.trie {
		n.trie[i] = binary.LittleEndian.Uint32(m[4+4*i:])
	}
	n.normalized = m[4+size:]
	return n, nil
}

// normalize returns text normalized.
func (n *spNormalizer) normalize(text string) string {
	var b strings.Builder
	// Leading whitespace goes first (after normalization: an ideographic space is one).
	if n.spec.removeExtraWhitespaces {
		for text != "" {
			rep, used := n.prefix(text)
			if rep != " " {
				break
			}
			text = text[used:]
		}
	}
	if text == "" {
		return ""
	}
	space := " "
	if n.spec.escapeWhitespaces {
		space = spaceSymbol
	}
	if n.spec.addDummyPrefix {
		b.WriteString(space)
	}
	prevSpace := n.spec.removeExtraWhitespaces
	for text != "" {
		rep, used := n.prefix(text)
		text = text[used:]
		if prevSpace {
			rep = strings.TrimLeft(rep, " ")
		}
		if rep != "" {
			if n.spec.escapeWhitespaces {
				b.WriteString(strings.ReplaceAll(rep, " ", spaceSymbol))
			} else {
				b.WriteString(rep)
			}
			prevSpace = n.spec.removeExtraWhitespaces && strings.HasSuffix(rep, " ")
		}
	}
	out := b.String()
	if n.spec.removeExtraWhitespaces {
		for strings.HasSuffix(out, space) {
			out = out[:len(out)-len(space)]
		}
	}
	return out
}

// prefix returns the normal form of text's first character, or of the longest match of
// the character map, and the number of bytes it replaces. A byte that starts no valid
// UTF-8 character becomes U+FFFD.
func (n *spNormalizer) prefix(text string) (string, int) {
	if length, value := n.longestMatch(text); length > 0 {
		rep := n.normalized[value:]
		if end := bytes.IndexByte(rep, 0); end >= 0 {
			rep = rep[:end]
		}
		return string(rep), length
	}
	r, size := utf8.DecodeRuneInString(text)
	if r == utf8.RuneError && size <= 1 {
		return "\uFFFD", 1
	}
	return text[:size], size
}

// longestMatch walks the double array (darts-clone's commonPrefixSearch) and returns the
// byte length and value of the longest key that prefixes text, or 0 and 0. Reads outside
// the array, from a damaged map, end the walk.
func (n *spNormalizer) longestMatch(text string) (length, value int) {
	if len(n.trie) == 0 {
		return 0, 0
	}
	pos := offset(n.trie[0])
	for i := 0; i < len(text) && text[i] != 0; i++ {
		c := uint32(text[i])
		pos ^= c
		if int(pos) >= len(n.trie) {
			return length, value
		}
		unit := n.trie[pos]
		if unit&(1<<31|0xFF) != c { // the label
			return length, value
		}
		pos ^= offset(unit)
		if int(pos) >= len(n.trie) {
			return length, value
		}
		if unit>>8&1 == 1 { // has a leaf: a key ends here
			v := int(n.trie[pos] & (1<<31 - 1))
			if v < len(n.normalized) {
				length, value = i+1, v
			}
		}
	}
	return length, value
}

// offset is a darts-clone unit's offset to its children.
func offset(unit uint32) uint32 { return unit >> 10 << (unit & (1 << 9) >> 6) }
