package main

import (
	"math"
	"os"
	"testing"
)

// TestMain lets the test binary serve as the child process that measures a
// configuration's peak RSS, as the command does.
func TestMain(m *testing.M) {
	if rssChild() {
		return
	}
	os.Exit(m.Run())
}

// checkRSS wants every row of a table that measures real memory to have
// figures that are positive and finite on Linux, measured on the same
// configuration as the row: the child's exact peak is the row's.
func checkRSS(t *testing.T, table Table) {
	t.Helper()
	if rssTables[table.Number] == nil {
		return
	}
	for _, row := range table.Rows {
		r := row.RSS
		if !rssAvailable() {
			if r != nil {
				t.Errorf("table %d / %s: peak RSS %+v where the system cannot measure it", table.Number, row.Name, r)
			}
			continue
		}
		if r == nil {
			t.Errorf("table %d / %s: no peak RSS", table.Number, row.Name)
			continue
		}
		// Linux counts resident pages per thread and folds the counts into the
		// process's every 64 page faults, so VmRSS and VmHWM lag by up to 64
		// pages a thread: a peak read after a step that freed memory can fall
		// that far below the resident set read before it (8 threads allowed for).
		const lag = 64 * 4096 * 8
		if r.Base <= 0 || r.Before <= 0 || r.Peak < r.Before-lag || r.Model() <= 0 || r.StepAlloc <= 0 || r.HeapGoal <= 0 {
			t.Errorf("table %d / %s: peak RSS figures %+v", table.Number, row.Name, *r)
		}
		if x := ratio(float64(r.Model()), float64(r.Exact)); !(x > 0) || math.IsInf(x, 0) {
			t.Errorf("table %d / %s: peak RSS over the exact peak is %v", table.Number, row.Name, x)
		}
		// TapeMachine's peak is the Go heap's sample, not an exact figure.
		if row.Setup != "TapeMachine" && r.Exact != row.Memory.Peak {
			t.Errorf("table %d / %s: the child's exact peak is %d bytes, the row's %d", table.Number, row.Name, r.Exact, row.Memory.Peak)
		}
	}
}

func TestReadStatus(t *testing.T) {
	if !rssAvailable() {
		t.Skip("no /proc/self/clear_refs")
	}
	rss, err := readStatus("VmRSS")
	if err != nil || rss <= 0 {
		t.Fatalf("VmRSS %d, %v", rss, err)
	}
	peak, err := readStatus("VmHWM")
	if err != nil || peak < rss {
		t.Fatalf("VmHWM %d, %v, below VmRSS %d", peak, err, rss)
	}
	if _, err := readStatus("VmNothing"); err == nil {
		t.Error("readStatus found VmNothing")
	}
}
