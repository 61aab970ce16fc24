package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/internal/cli"
	"github.com/velora-go/velora/peft"
)

// Row is one line of the table: a PEFT method, with or without VeLoRA.
type Row struct {
	Method string // one of peft.Methods
	VeLoRA bool
}

// veloraSuffix marks a row with VeLoRA: "lora+velora".
const veloraSuffix = "+velora"

func (r Row) String() string {
	if r.VeLoRA {
		return r.Method + veloraSuffix
	}
	return r.Method
}

// MarshalText writes the row as ParseRow reads it.
func (r Row) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a row with ParseRow.
func (r *Row) UnmarshalText(b []byte) error {
	row, err := ParseRow(string(b))
	*r = row
	return err
}

// ParseRow reads "lora" or "lora+velora".
func ParseRow(s string) (Row, error) {
	r := Row{Method: strings.TrimSpace(s)}
	if m, ok := strings.CutSuffix(r.Method, veloraSuffix); ok {
		r = Row{Method: m, VeLoRA: true}
	}
	if !contains(peft.Methods(), r.Method) {
		return r, errors.Errorf("vtab: method %q, expected one of %s, each optionally with %q", s, strings.Join(peft.Methods(), ", "), veloraSuffix)
	}
	if r.VeLoRA && r.Method == peft.MethodLinearProbe {
		return r, errors.Errorf("vtab: method %q: linear probing trains no linear layer whose input VeLoRA could compress", s)
	}
	return r, nil
}

// ParseRows reads a comma-separated list of rows; none may repeat.
func ParseRows(s string) ([]Row, error) {
	var rows []Row
	seen := map[Row]bool{}
	for _, f := range cli.SplitList(s) {
		r, err := ParseRow(f)
		if err != nil {
			return nil, err
		}
		if seen[r] {
			return nil, errors.Errorf("vtab: method %q listed twice", r)
		}
		seen[r] = true
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, errors.New("vtab: no method given")
	}
	return rows, nil
}

// Setting is a hyper-parameter that may differ per row. Its keys are row
// names ("lora+velora"), method names ("lora": both rows of the method) and
// "" (every row); the most specific key wins.
type Setting[T int | float64 | string] map[string]T

// Get returns the value for row r, and false when no key covers it.
func (s Setting[T]) Get(r Row) (T, bool) {
	for _, k := range []string{r.String(), r.Method, ""} {
		if v, ok := s[k]; ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// String writes the setting as the flag reads it, keys sorted.
func (s Setting[T]) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		if k == "" {
			parts[i] = fmt.Sprint(s[k])
		} else {
			parts[i] = fmt.Sprintf("%s=%v", k, s[k])
		}
	}
	return strings.Join(parts, ",")
}

// Update reads a flag value, "16" or "full=32,lora=16", into s. A bare
// value applies to every row and replaces all earlier keys; a method name
// replaces the keys of both its rows; "method+velora" only that row's.
func (s Setting[T]) Update(value string, parse func(string) (T, error)) error {
	fields := cli.SplitList(value)
	if len(fields) == 0 {
		return errors.New("vtab: empty value")
	}
	for _, f := range fields {
		key, text, ok := strings.Cut(f, "=")
		if !ok {
			key, text = "", f
		}
		key = strings.TrimSpace(key)
		if key != "" {
			if _, err := ParseRow(key); err != nil {
				return err
			}
		}
		v, err := parse(strings.TrimSpace(text))
		if err != nil {
			return check.Wrapf(err, "vtab: value %q", f)
		}
		switch {
		case key == "":
			clear(s)
		case !strings.HasSuffix(key, veloraSuffix):
			delete(s, key+veloraSuffix)
		}
		s[key] = v
	}
	return nil
}

// parsePositiveInt reads an integer above zero.
func parsePositiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, errors.Errorf("%q is not a positive integer", s)
	}
	return n, nil
}

// parsePositiveFloat reads a finite number above zero.
func parsePositiveFloat(s string) (float64, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || !(x > 0) || x > 1e300 {
		return 0, errors.Errorf("%q is not a positive number", s)
	}
	return x, nil
}

// parseText reads a non-empty string.
func parseText(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty value")
	}
	return s, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
