package c4

import (
	"slices"
	"unicode/utf8"
)

// spUnigram cuts normalized text into the pieces of a unigram model: the segmentation
// whose pieces' scores (log probabilities) add up to the most, found by Viterbi over
// the text's characters (unigram_model.cc, EncodeOptimized). A character no piece
// starts with is unknown, scored 10 below the lowest piece, and a run of unknown
// characters becomes one unknown piece.
type spUnigram struct {
	ids      map[string]int // normal pieces
	scores   []float32      // by id
	maxBytes int            // the longest piece, in bytes
	unkID    int
	unkScore float32
}

func newSPUnigram(m spModel) *spUnigram {
	u := &spUnigram{ids: make(map[string]int), scores: make([]float32, len(m.pieces)), unkID: int(m.unkID)}
	minScore := float32(0)
	for id, p := range m.pieces {
		u.scores[id] = p.score
		if p.kind != spNormal {
			continue
		}
		if len(u.ids) == 0 || p.score < minScore {
			minScore = p.score
		}
		u.ids[p.text] = id
		u.maxBytes = max(u.maxBytes, len(p.text))
	}
	const unkPenalty = 10
	u.unkScore = minScore - unkPenalty
	return u
}

// encode returns the ids of the best segmentation of normalized text.
func (u *spUnigram) encode(text string) []int {
	// best[i] is the best segmentation of text[:i]: its score, and its last piece's
	// start and id. Scores add in float32, as in SentencePiece.
	type node struct {
		score float32
		start int // -1 while no segmentation reaches i
		id    int
	}
	best := make([]node, len(text)+1)
	for i := 1; i < len(best); i++ {
		best[i].start = -1
	}
	offer := func(end int, score float32, start, id int) {
		if n := &best[end]; n.start < 0 || score > n.score {
			*n = node{score: score, start: start, id: id}
		}
	}
	for start := 0; start < len(text); {
		_, char := utf8.DecodeRuneInString(text[start:])
		base := best[start].score
		single := false
		for end := start + char; end <= min(len(text), start+u.maxBytes); {
			if id, ok := u.ids[text[start:end]]; ok {
				offer(end, base+u.scores[id], start, id)
				single = single || end == start+char
			}
			if end == len(text) {
				break
			}
			_, next := utf8.DecodeRuneInString(text[end:])
			end += next
		}
		if !single {
			offer(start+char, base+u.unkScore, start, u.unkID)
		}
		start += char
	}
	// Walk back from the end; a run of unknown characters is one unknown piece, as
	// SentencePiece merges them.
	var ids []int
	for end := len(text); end > 0; end = best[end].start {
		id := best[end].id
		if id == u.unkID && len(ids) > 0 && ids[len(ids)-1] == u.unkID {
			continue
		}
		ids = append(ids, id)
	}
	slices.Reverse(ids)
	return ids
}
