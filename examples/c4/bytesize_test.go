package main

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"20MiB", 20 << 20}, {"1.5 GiB", 3 << 29}, {"500kb", 500000}, {"4096", 4096}, {"3 B", 3}, {" 2mb ", 2000000}, {"1TiB", 1 << 40},
	} {
		got, err := parseByteSize("-memory-budget", c.in)
		if err != nil || got != c.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1MiB", "0", "0.5", "NaN", "Inf GiB", "20 MiBs", "1e30 GiB", "twenty"} {
		_, err := parseByteSize("-memory-budget", bad)
		if err == nil || !strings.Contains(err.Error(), "-memory-budget") || !strings.Contains(err.Error(), "expected a positive size") {
			t.Errorf("parseByteSize(%q): err = %v, want one naming the flag and the expected form", bad, err)
		}
	}
}

// FuzzParseByteSize: any text either parses to a positive size or is an error naming the
// flag, and a parsed size in bytes parses back to itself.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"20MiB", "1.5 GiB", "500kb", "4096", "-1", "NaN", "1e400", "0x10", "  7 tb", "½MiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseByteSize("-memory-budget", s)
		if err != nil {
			if !strings.Contains(err.Error(), "-memory-budget") {
				t.Fatalf("%q: error %v does not name the flag", s, err)
			}
			return
		}
		if n < 1 {
			t.Fatalf("%q parsed to %d bytes", s, n)
		}
		if back, err := parseByteSize("-memory-budget", strconv.FormatInt(n, 10)); err != nil || back != n {
			t.Fatalf("%q: %d bytes parsed back as %d, %v", s, n, back, err)
		}
	})
}
