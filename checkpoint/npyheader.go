package checkpoint

import (
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// npyHeader is the Python dict literal at the head of a .npy file, such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
type npyHeader struct {
	descr        string
	fortranOrder bool
	shape        []int
}

// formatNPYHeader writes h as NumPy does (keys sorted, a trailing comma,
// one-tuples as "(3,)"), padded with spaces and ended by a newline so that
// the data after a version 1.0 prefix (10 bytes) starts at a multiple of 64.
func formatNPYHeader(h npyHeader) string {
	dims := make([]string, len(h.shape))
	for i, d := range h.shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := "(" + strings.Join(dims, ", ") + ")"
	if len(dims) == 1 {
		shape = "(" + dims[0] + ",)"
	}
	order := "False"
	if h.fortranOrder {
		order = "True"
	}
	s := "{'descr': '" + h.descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }"
	pad := 64 - (10+len(s)+1)%64 // as NumPy: a full 64 when already aligned
	return s + strings.Repeat(" ", pad) + "\n"
}

// parseNPYHeader reads the dict literal of a .npy header. It accepts the
// subset of Python literals NumPy writes: string keys, a string descr, a
// bool fortran_order and a tuple of integers as shape, in any order.
func parseNPYHeader(s string) (npyHeader, error) {
	p := &literal{s: s}
	var h npyHeader
	if err := p.expect('{'); err != nil {
		return h, err
	}
	seen, err := p.entries(&h)
	if err != nil {
		return h, err
	}
	if err := p.end(); err != nil {
		return h, err
	}
	for _, key := range []string{"descr", "fortran_order", "shape"} {
		if !seen[key] {
			return h, errors.Errorf("header %q lacks key %q", s, key)
		}
	}
	return h, nil
}

// literal is a cursor over a Python literal.
type literal struct {
	s   string
	pos int
}

// entries parses "key: value" pairs up to the closing brace into h and
// returns the keys seen.
func (p *literal) entries(h *npyHeader) (map[string]bool, error) {
	seen := map[string]bool{}
	for !p.next('}') {
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, errors.Errorf("header key %q appears twice", key)
		}
		seen[key] = true
		if err := p.expect(':'); err != nil {
			return nil, err
		}
		if err := p.field(h, key); err != nil {
			return nil, check.Wrapf(err, "header key %q", key)
		}
		if !p.next('}') {
			if err := p.expect(','); err != nil {
				return nil, err
			}
		}
	}
	return seen, nil
}

// field parses the value of key into h.
func (p *literal) field(h *npyHeader, key string) error {
	var err error
	switch key {
	case "descr":
		h.descr, err = p.str()
	case "fortran_order":
		h.fortranOrder, err = p.boolean()
	case "shape":
		h.shape, err = p.tuple()
	default:
		err = errors.New("unexpected key")
	}
	return err
}

// skip moves past white space.
func (p *literal) skip() {
	p.pos = len(p.s) - len(strings.TrimLeft(p.s[p.pos:], " \t\n\r"))
}

// next skips white space and reports whether the next byte is c.
func (p *literal) next(c byte) bool {
	p.skip()
	return p.pos < len(p.s) && p.s[p.pos] == c
}

// expect consumes c after optional white space.
func (p *literal) expect(c byte) error {
	if !p.next(c) {
		return p.errorf("expected %q", c)
	}
	p.pos++
	return nil
}

// end moves past the closing brace, which next has seen, and checks that
// only white space follows.
func (p *literal) end() error {
	p.pos++
	if strings.TrimSpace(p.s[p.pos:]) != "" {
		return p.errorf("unexpected text after the dict")
	}
	return nil
}

// str parses a string in single or double quotes, without escapes.
func (p *literal) str() (string, error) {
	if !p.next('\'') && !p.next('"') {
		return "", p.errorf("expected a string")
	}
	quote := p.s[p.pos]
	n := strings.IndexByte(p.s[p.pos+1:], quote)
	if n < 0 {
		return "", p.errorf("unterminated string")
	}
	v := p.s[p.pos+1 : p.pos+1+n]
	p.pos += n + 2
	return v, nil
}

// boolean parses True or False.
func (p *literal) boolean() (bool, error) {
	p.skip()
	for word, v := range map[string]bool{"True": true, "False": false} {
		if strings.HasPrefix(p.s[p.pos:], word) {
			p.pos += len(word)
			return v, nil
		}
	}
	return false, p.errorf("expected True or False")
}

// tuple parses a tuple of non-negative integers: (), (3,), (2, 3) or (2, 3,).
func (p *literal) tuple() ([]int, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	dims := []int{}
	comma := false
	for !p.next(')') {
		d, err := p.integer()
		if err != nil {
			return nil, err
		}
		dims = append(dims, d)
		if comma = p.next(','); comma {
			p.pos++
		} else if !p.next(')') {
			return nil, p.errorf("expected ',' or ')'")
		}
	}
	p.pos++
	if len(dims) == 1 && !comma {
		return nil, p.errorf("(%d) is an integer, not a tuple", dims[0])
	}
	return dims, nil
}

// integer parses a non-negative decimal integer; a Python 2 long suffix L
// is accepted as NumPy does.
func (p *literal) integer() (int, error) {
	p.skip()
	start := p.pos
	for p.pos < len(p.s) && '0' <= p.s[p.pos] && p.s[p.pos] <= '9' {
		p.pos++
	}
	d, err := strconv.Atoi(p.s[start:p.pos])
	if err != nil {
		return 0, p.errorf("expected an integer ≥ 0")
	}
	if p.pos < len(p.s) && p.s[p.pos] == 'L' {
		p.pos++
	}
	return d, nil
}

func (p *literal) errorf(format string, args ...interface{}) error {
	return errors.Errorf("header %q at byte %d: "+format, append([]interface{}{p.s, p.pos}, args...)...)
}
