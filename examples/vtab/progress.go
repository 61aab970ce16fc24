package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is the run's log: lines written to it go to w, above a progress
// bar of training steps when the bar is on. "auto" shows the bar only when
// w is a terminal, so that logs of CI runs stay plain lines.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar // nil when off
}

func newProgress(mode string, w io.Writer) *progress {
	p := &progress{w: w}
	if mode == "on" || (mode == "auto" && isTerminal(w)) {
		p.bar = progressbar.NewOptions64(1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("steps"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionFullWidth())
	}
	return p
}

// start names the work under way and the number of steps of the whole
// run, as far as it is known.
func (p *progress) start(what string, total int64) {
	if p.bar != nil {
		p.bar.ChangeMax64(max(total, 1))
		p.bar.Describe(what)
	}
}

// set moves the bar to step n.
func (p *progress) set(n int64) {
	if p.bar != nil {
		p.bar.Set64(n)
	}
}

// tick counts one step.
func (p *progress) tick() {
	if p.bar != nil {
		p.bar.Add(1)
	}
}

// Write writes log lines above the bar.
func (p *progress) Write(b []byte) (int, error) {
	if p.bar != nil {
		p.bar.Clear()
	}
	return p.w.Write(b)
}

// finish removes the bar.
func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Exit()
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
