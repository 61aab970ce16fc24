package main

import (
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// byteUnits are the suffixes parseByteSize reads, in bytes: binary (KiB, MiB, GiB) and
// decimal (KB, MB, GB), in any case.
var byteUnits = []struct {
	suffix string
	bytes  float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"b", 1},
}

// parseByteSize reads a size such as "20MiB", "1.5 GiB", "500kb" or "4096" (bytes). flag
// names the setting in errors.
func parseByteSize(flag, s string) (int64, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	scale := 1.0
	for _, u := range byteUnits {
		if strings.HasSuffix(text, u.suffix) {
			text, scale = strings.TrimSpace(strings.TrimSuffix(text, u.suffix)), u.bytes
			break
		}
	}
	x, err := strconv.ParseFloat(text, 64)
	n := x * scale
	if err != nil || math.IsNaN(n) || n < 1 || n >= 1<<62 {
		return 0, errors.Errorf("c4: %s %q, expected a positive size like 20MiB, 1.5GiB, 500KB or a number of bytes", flag, s)
	}
	return int64(n), nil
}
