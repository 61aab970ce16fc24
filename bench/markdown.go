package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/checkpoint"
)

// markdownTitle starts every file writeMarkdown writes: -markdown replaces
// only a file that starts with it.
const markdownTitle = "# Benchmark results"

// writeMarkdown writes the tables a run printed to path, atomically, under a
// header that says where, when, by which command and in how long they were
// measured, and how to read them. args are the command's arguments.
func writeMarkdown(path string, r Report, args []string, start time.Time, took time.Duration, tables []byte) error {
	return errors.Wrapf(checkpoint.WriteAtomic(path, func(w io.Writer) error {
		fmt.Fprintf(w, "%s\n\n", markdownTitle)
		fmt.Fprintf(w, "Written by `%s` on %s in %.0f s: %s, %s, GOMAXPROCS %d. Do not edit it by hand; run the command again.\n\n",
			commandLine(args), start.UTC().Format("2006-01-02 15:04 MST"), took.Seconds(), r.CPU, r.GoVersion, r.GOMAXPROCS)
		fmt.Fprintf(w, "%s\n\n", howToRead)
		_, err := w.Write(tables)
		return err
	}), "bench: -markdown %s", path)
}

// howToRead explains the columns every model table shares.
const howToRead = "Memory is package machine's exact byte count at the step's peak, split by train.Memory: parameters include frozen " +
	"weights, the batch and, for QLoRA, the NF4 storage; activations include the backward pass's own intermediates. \"Go heap\" is the " +
	"runtime's sampled heap peak beside it, which also counts the buffer pool and garbage not yet collected. Ratios in parentheses are " +
	"to the table's first row. A step time is the mean of -steps steps after -warmup untimed ones; with no warm-up it is each " +
	"configuration's first step, which also allocates v, the optimizer's state and the buffer pool. Times on a shared machine move " +
	"by 10-20% between runs; memory does not."

// commandLine is the command that runs the bench with args, quoted for a
// POSIX shell where an argument needs it.
func commandLine(args []string) string {
	words := []string{"go", "run", "./bench"}
	for _, a := range args {
		if a == "" || strings.ContainsFunc(a, func(r rune) bool { return !strings.ContainsRune("-_=.,/:+@%", r) && !isAlnum(r) }) {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}
