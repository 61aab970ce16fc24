// Package cli holds what the example programs' command lines share.
package cli

import "strings"

// SplitList splits a comma-separated flag value ("q, v,down") into its
// trimmed, non-empty fields.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
