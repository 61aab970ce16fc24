package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseTables(t *testing.T) {
	all := []int{tableGEMM, tableOps, tableLayers, tableSplit, tableSubTokens, tableFineTune, tableExecutor, tableViTMethods, tableLLaMAMethods, tableRecompute, tableBudget}
	for _, c := range []struct {
		list  string
		plain bool
		want  []int // selected numbers, ascending
	}{
		{"", false, all},
		{" ", false, all},
		{"", true, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"1,2", false, []int{1, 2}},
		{" 3 , 1,3", false, []int{1, 3}},
		{"8", false, []int{8}},
		{"2", true, []int{2, 8}},
		{"10", false, []int{10}},
	} {
		got, err := parseTables(c.list, c.plain)
		if err != nil {
			t.Errorf("parseTables(%q, %v): %v", c.list, c.plain, err)
			continue
		}
		var numbers []int
		for n, ok := range got {
			if ok {
				numbers = append(numbers, n)
			}
		}
		if !slices.Equal(numbers, c.want) {
			t.Errorf("parseTables(%q, %v) selects %v, want %v", c.list, c.plain, numbers, c.want)
		}
	}
}

func TestParseTablesRejects(t *testing.T) {
	for _, c := range []struct{ list, bad string }{
		{"0", `"0"`},
		{"13", `"13"`},
		{"1,14", `"14"`},
		{"-1", `"-1"`},
		{"1,,2", `""`},
		{"two", `"two"`},
		{"1;2", `"1;2"`},
	} {
		_, err := parseTables(c.list, false)
		if err == nil {
			t.Errorf("parseTables(%q) = nil error", c.list)
			continue
		}
		// The message names the bad item and lists the valid tables.
		for _, part := range []string{"no table " + c.bad, "1 GEMM", "10 PEFT methods on a LLaMA"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("parseTables(%q): %q does not say %q", c.list, err, part)
			}
		}
	}
}
