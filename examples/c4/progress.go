package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
)

// progress shows how a variant's training goes: a bar on a terminal, else a
// line every tenth of the run.
type progress struct {
	bar   *progressbar.ProgressBar
	log   io.Writer
	label string
	total int
	every int
}

// stderrIsTerminal reports whether standard error is a terminal, where a
// progress bar can redraw itself (not in CI or a test's captured output).
func stderrIsTerminal() bool {
	info, err := os.Stderr.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func newProgress(o Options, label string, start, total int) *progress {
	p := &progress{log: o.log(), label: label, total: total, every: max(1, total/10)}
	if o.Bar && stderrIsTerminal() {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
		)
		p.bar.Set(start)
	}
	return p
}

func (p *progress) update(step int, loss, tokensPerSec float64) {
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%s loss %.4f %.0f tok/s", p.label, loss, tokensPerSec))
		p.bar.Set(step)
		return
	}
	if step%p.every == 0 || step == p.total {
		fmt.Fprintf(p.log, "%s: step %d/%d loss %.4f %.0f tok/s\n", p.label, step, p.total, loss, tokensPerSec)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
