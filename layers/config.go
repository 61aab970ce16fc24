package layers

import (
	"encoding/json"
	"os"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// jsonKeys reads a JSON object and returns its numeric fields through the
// accessors below, which name the file and key in every error.
type jsonKeys struct {
	source string
	raw    map[string]json.RawMessage
}

func readJSONKeys(data []byte, source string) (*jsonKeys, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, check.Wrapf(err, "layers: %s, expected a JSON object", source)
	}
	return &jsonKeys{source: source, raw: raw}, nil
}

// number returns the first of keys present as a float64; ok is false when
// none is present.
func (j *jsonKeys) number(keys ...string) (x float64, ok bool, err error) {
	for _, k := range keys {
		v, present := j.raw[k]
		if !present {
			continue
		}
		if err := json.Unmarshal(v, &x); err != nil {
			return 0, true, errors.Errorf("layers: %s: key %q is %s, expected a number", j.source, k, v)
		}
		return x, true, nil
	}
	return 0, false, nil
}

// positiveInt returns a required positive integer under one of keys.
func (j *jsonKeys) positiveInt(keys ...string) (int, error) {
	x, ok, err := j.number(keys...)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, errors.Errorf("layers: %s: missing key %q", j.source, keys[0])
	}
	if x != float64(int(x)) || x <= 0 {
		return 0, errors.Errorf("layers: %s: key %q is %v, expected a positive integer", j.source, keys[0], x)
	}
	return int(x), nil
}

// requireString checks that key, when present, is the string want: a setting the
// model implements in one way only (LLaMA's hidden_act "silu").
func (j *jsonKeys) requireString(key, want string) error {
	v, present := j.raw[key]
	if !present {
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil || s != want {
		return errors.Errorf("layers: %s: key %q is %s, expected %q, the only one implemented", j.source, key, v, want)
	}
	return nil
}

// optionalPositive returns a positive number under key, or 0 (the
// config's default) when the key is absent.
func (j *jsonKeys) optionalPositive(key string) (float64, error) {
	x, ok, err := j.number(key)
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return 0, nil
	case !(x > 0):
		return 0, errors.Errorf("layers: %s: key %q is %v, expected a positive number", j.source, key, x)
	}
	return x, nil
}

// readConfigFile reads a config file, naming it in errors.
func readConfigFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	return data, check.Wrap(err, "layers: reading config")
}
