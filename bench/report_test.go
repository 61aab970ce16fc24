package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/velora-go/velora/train"
)

// TestWriteChartsDrawsTheMeasuredTables wants one PNG for each charted
// table the report holds, and none for the others.
func TestWriteChartsDrawsTheMeasuredTables(t *testing.T) {
	rows := []Row{
		{Name: "none", Memory: train.Memory{Params: 3 << 20, Grads: 1 << 20, Optimizer: 2 << 20, Activations: 9 << 20}},
		{Name: "vd", Memory: train.Memory{Params: 3 << 20, Grads: 1 << 20, Optimizer: 2 << 20, Activations: 7 << 20}},
	}
	r := Report{Tables: []Table{{Number: tableLayers, Rows: rows}, {Number: tableExecutor, Rows: rows}, {Number: tableFineTune, Rows: rows}}}
	dir := filepath.Join(t.TempDir(), "charts")
	if err := writeCharts(dir, r); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "table3.png" || names[1] != "table6.png" {
		t.Errorf("charts %v, want table3.png and table6.png", names)
	}
}
