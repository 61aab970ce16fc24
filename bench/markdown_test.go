package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/velora-go/velora/train"
)

// TestMarkdownWritesTheTables writes a fake run's tables with -markdown's
// writer and checks the header and the tables are there, that the folder
// holds the file alone, and that a directory or a missing folder is refused
// and left as it was.
func TestMarkdownWritesTheTables(t *testing.T) {
	var printed bytes.Buffer
	gemm := []GEMMRow{{Name: "forward x·w", M: 64, N: 32, K: 32, Kernel: 75.5, Gonum: 9.5}}
	printGEMM(&printed, tableGEMM, "purego", gemm)
	printTable(&printed, Table{Number: tableLayers, Title: "Layer selection", Rows: []Row{
		{Name: "none", Memory: train.Memory{Peak: 3 << 20, Activations: 2 << 20}, StepSeconds: 0.5},
		{Name: "vd", Memory: train.Memory{Peak: 2 << 20, Activations: 1 << 20}, StepSeconds: 0.4},
	}})
	r := Report{CPU: "Test CPU 9000", GoVersion: "go1.26.8", GOMAXPROCS: 3}
	start := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)

	dir := t.TempDir()
	path := filepath.Join(dir, "RESULTS.md")
	if err := checkOutputs(path, "", ""); err != nil {
		t.Fatal(err)
	}
	args := []string{"-markdown", "RESULTS.md", "-tables", "1,3", "-note", "a b"}
	if err := writeMarkdown(path, r, args, start, 42*time.Second, printed.Bytes()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{
		"`go run ./bench -markdown RESULTS.md -tables 1,3 -note 'a b'`", "2026-05-04 03:02 UTC", "in 42 s",
		"Test CPU 9000", "go1.26.8", "GOMAXPROCS 3",
		"## 1. GEMM", "| forward x·w | 64 × 32 × 32 | 75.5 | 9.5 | 7.95 |",
		"## 3. Layer selection", "| vd | 0 | — | 2.0 MiB (0.67) |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("RESULTS.md lacks %q:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, printed.String()) {
		t.Errorf("RESULTS.md does not end with the run's tables as printed:\n%s", got)
	}

	for _, c := range []struct{ path, want string }{
		{dir, "is a directory"},
		{filepath.Join(dir, "missing", "RESULTS.md"), "does not exist"},
		{filepath.Join(path, "RESULTS.md"), "is a file, expected a folder"},
	} {
		if err := checkOutputs(c.path, "", ""); err == nil || !strings.Contains(err.Error(), "bench: -markdown: "+c.path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("checkOutputs(%s): %v, want an error naming the flag and path that says %q", c.path, err, c.want)
		}
		if err := writeMarkdown(c.path, r, args, start, time.Second, printed.Bytes()); err == nil {
			t.Errorf("writeMarkdown(%s) wrote", c.path)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != "RESULTS.md" {
		t.Errorf("the folder holds %v (%v), want RESULTS.md alone", entries, err)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, data) {
		t.Errorf("the refused writes changed RESULTS.md (%v)", err)
	}
}
