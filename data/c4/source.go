package c4

import (
	"encoding/binary"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// source hands out the documents of a list of shards, epoch after epoch, in a seeded
// order: the shards shuffled per epoch, each shard read in windows of `window`
// documents, each window shuffled. Everything random is seeded from the seed and the
// position, so any position can be re-entered by reading its window again.
type source struct {
	shards Shards
	seed   int64
	window int
	repeat bool

	epoch  int
	order  []int        // shard indices in this epoch's order
	shard  int          // index into order
	line   int          // lines of the shard before the window
	reader *shardReader // the open shard, nil before it is opened
	docs   []Document   // the window, shuffled; valid when loaded
	loaded bool
	ended  bool // the window is the shard's last
	skip   int  // documents of the window handed out (or to skip, before it is loaded)
	whole  bool // the pass began at its start, so reaching its end means every shard was read
	handed int  // documents handed out in this pass
}

// newSource returns a source at the start of epoch 0.
func newSource(shards Shards, cfg Config) *source {
	s := &source{shards: shards, seed: cfg.Seed, window: cfg.Shuffle, repeat: cfg.Repeat}
	s.startEpoch(0)
	return s
}

// startEpoch moves to the first shard of an epoch.
func (s *source) startEpoch(epoch int) {
	s.closeShard()
	s.epoch, s.order, s.shard, s.line, s.skip = epoch, s.shardOrder(epoch), 0, 0, 0
	s.whole, s.handed = true, 0
}

// shardOrder returns the shard indices in an epoch's order: shuffled with the seed and
// the epoch, unless the window is 1.
func (s *source) shardOrder(epoch int) []int {
	order := make([]int, len(s.shards.Paths))
	for i := range order {
		order[i] = i
	}
	if s.window > 1 {
		r := seeded(s.seed, epoch)
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	return order
}

// seek moves to a cursor's window; Next checks what can only be checked by reading.
func (s *source) seek(c Cursor) error {
	if c.Epoch < 0 || c.Shard < 0 || c.Line < 0 || c.Skip < 0 {
		return errors.Errorf("c4: cursor %+v has a negative field, expected every field ≥ 0", c)
	}
	if c.Shard > len(s.shards.Paths) {
		return errors.Errorf("c4: cursor shard %d, but there are %d shards", c.Shard, len(s.shards.Paths))
	}
	s.startEpoch(c.Epoch)
	if c.File != "" && c.File != s.file(s.order, c.Shard) {
		return errors.Errorf("c4: cursor names shard %q at index %d of epoch %d, but this stream has %q there: "+
			"not the data the cursor was made on", c.File, c.Shard, c.Epoch, s.file(s.order, c.Shard))
	}
	s.shard, s.line, s.skip = c.Shard, c.Line, c.Skip
	s.whole = c.Shard == 0 && c.Line == 0 && c.Skip == 0
	return nil
}

// file returns the base name of the shard at index i of an order, or "" past the last.
func (s *source) file(order []int, i int) string {
	if i >= len(order) {
		return ""
	}
	return filepath.Base(s.shards.Paths[order[i]])
}

// position returns the cursor of the next document. A used-up window gives the start
// of the next window, shard or epoch.
func (s *source) position() Cursor {
	epoch, order, shard, line, skip := s.epoch, s.order, s.shard, s.line, s.skip
	if s.loaded && skip == len(s.docs) {
		line, skip = s.reader.Line(), 0
		if s.ended {
			shard, line = shard+1, 0
		}
	}
	if shard == len(order) && s.repeat {
		epoch, shard = epoch+1, 0
		order = s.shardOrder(epoch)
	}
	return Cursor{Epoch: epoch, Shard: shard, File: s.file(order, shard), Line: line, Skip: skip}
}

// next returns the next document and its cursor, or io.EOF at the end of a pass
// without repeat. A whole pass that finds no document is an error: with repeat it would
// start empty epochs for ever.
func (s *source) next() (Document, Cursor, error) {
	for !s.loaded || s.skip == len(s.docs) {
		if s.loaded { // the window is used up
			if s.ended {
				s.closeShard()
				s.shard, s.line = s.shard+1, 0
			} else {
				s.line, s.loaded = s.reader.Line(), false
			}
			s.skip = 0
		}
		if s.shard == len(s.order) {
			if s.whole && s.handed == 0 {
				return Document{}, Cursor{}, errors.Errorf("c4: shards %s hold no documents",
					strings.Join(s.shards.Paths, ", "))
			}
			if !s.repeat {
				return Document{}, Cursor{}, io.EOF
			}
			s.startEpoch(s.epoch + 1)
		}
		if err := s.load(); err != nil {
			return Document{}, Cursor{}, err
		}
	}
	pos := s.position()
	d := s.docs[s.skip]
	s.skip++
	s.handed++
	return d, pos, nil
}

// load reads the window that starts after s.line lines of the current shard, notes
// whether the shard ends with it, and shuffles it.
func (s *source) load() error {
	if s.reader == nil {
		r, err := openShard(s.shards.FS, s.shards.Paths[s.order[s.shard]])
		if err != nil {
			return err
		}
		s.reader = r
		if err := r.skipLines(s.line); err != nil {
			return err
		}
	}
	s.docs, s.ended = s.docs[:0], false
	for len(s.docs) < s.window && !s.ended {
		d, err := s.reader.Next()
		switch {
		case err == io.EOF:
			s.ended = true
		case err != nil:
			return err
		default:
			s.docs = append(s.docs, d)
		}
	}
	s.ended = s.ended || s.reader.atEOF()
	if s.skip > len(s.docs) {
		return errors.Errorf("c4: cursor skips %d documents, but the window after line %d of %s holds %d",
			s.skip, s.line, s.reader.Path(), len(s.docs))
	}
	if s.window > 1 {
		r := seeded(s.seed, s.epoch, s.shard, s.line)
		r.Shuffle(len(s.docs), func(i, j int) { s.docs[i], s.docs[j] = s.docs[j], s.docs[i] })
	}
	s.loaded = true
	return nil
}

// closeShard closes the open shard, if any, and forgets its window.
func (s *source) closeShard() error {
	s.loaded, s.ended, s.docs = false, false, s.docs[:0]
	if s.reader == nil {
		return nil
	}
	err := s.reader.Close()
	s.reader = nil
	return err
}

// seeded returns a generator seeded from seed and a position, so each window and each
// epoch's shard order has its own reproducible randomness.
func seeded(seed int64, position ...int) *rand.Rand {
	h := fnv.New64a()
	var b [8]byte
	for _, p := range position {
		binary.LittleEndian.PutUint64(b[:], uint64(p))
		h.Write(b[:])
	}
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}
