package check

import (
	"fmt"
	"io"
	"strings"

	"github.com/pkg/errors"
)

// The module's error style. A message starts with exactly one package prefix,
// then says what was wrong, with the value, and what was expected:
// "layers: lora rank -1, expected a positive rank (0 means 8)". The innermost
// error carries the prefix of the package that found the problem, and a caller
// may return it as it is. A wrapper that adds context (a file, a key, a module)
// uses Wrap or Wrapf with its own package's prefix in front of the context; they
// drop the inner error's prefix, so a prefix never stands in the middle of a
// message:
//
//	check.Wrap(err, "peft: velora_layers") // err: layers: projection "x", expected one of q, k
//	// peft: velora_layers: projection "x", expected one of q, k
//
// A helper whose caller adds the prefix wraps with context alone:
// check.Wrapf(err, "key %q", key). The packages that follow this: layers, peft,
// optim, train, machine, vinit, checkpoint, c4 and vtab.

// prefixes are the package prefixes of the module's errors.
var prefixes = []string{"op", "nf4", "nn", "plain", "kernel", "vinit", "machine", "layers", "peft", "optim", "train", "checkpoint", "c4", "vtab", "bench"}

// Wrap returns err with context in front, after dropping the package prefixes
// that start err's message (see the style above); nil when err is nil. The
// result's Cause and Unwrap are err, and %+v prints err's stack.
func Wrap(err error, context string) error {
	if err == nil {
		return nil
	}
	return &wrapped{context: context, cause: errors.WithStack(err)}
}

// Wrapf is Wrap with a formatted context.
func Wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &wrapped{context: fmt.Sprintf(format, args...), cause: errors.WithStack(err)}
}

type wrapped struct {
	context string
	cause   error
}

func (w *wrapped) Error() string { return w.context + ": " + unprefixed(w.cause.Error()) }
func (w *wrapped) Cause() error  { return w.cause }
func (w *wrapped) Unwrap() error { return w.cause }

// Format prints the message, and with %+v the cause's stack before it.
func (w *wrapped) Format(s fmt.State, verb rune) {
	if verb == 'v' && s.Flag('+') {
		fmt.Fprintf(s, "%+v\n", w.cause)
	}
	io.WriteString(s, w.Error())
}

// unprefixed is msg without the package prefixes ("layers: ", "op: ", ...)
// that start it.
func unprefixed(msg string) string {
	for {
		p, rest, ok := strings.Cut(msg, ": ")
		if !ok || !isPrefix(p) {
			return msg
		}
		msg = rest
	}
}

func isPrefix(p string) bool {
	for _, q := range prefixes {
		if p == q {
			return true
		}
	}
	return false
}
