package c4

import (
	"bytes"
	"encoding/json"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// Document is one line of a C4 shard: a JSON object with three string fields.
// Text is required; Timestamp (the crawl time, e.g. "2019-04-25T12:57:54Z") and URL may
// be missing, and then read as "".
type Document struct {
	Text      string `json:"text"`      // the document, required
	Timestamp string `json:"timestamp"` // the crawl time, or ""
	URL       string `json:"url"`       // where it was crawled, or ""
}

// line is the JSON shape of a shard line; Text is a pointer so a missing "text" field
// can be told from an empty one.
type line struct {
	Text      *string `json:"text"`
	Timestamp string  `json:"timestamp"`
	URL       string  `json:"url"`
}

// parseDocument decodes one shard line. Its errors say what is wrong but not where: the
// shard reader adds the file and line.
func parseDocument(b []byte) (Document, error) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "" {
			return Document{}, errors.Errorf("line is a JSON %s, expected an object", typeErr.Value)
		}
		if errors.As(err, &typeErr) {
			return Document{}, errors.Errorf("field %q is a JSON %s, expected a string", typeErr.Field, typeErr.Value)
		}
		return Document{}, check.Wrap(err, "invalid JSON")
	}
	if l.Text == nil {
		return Document{}, errors.Errorf("no \"text\" string in %s", abbreviate(b))
	}
	return Document{Text: *l.Text, Timestamp: l.Timestamp, URL: l.URL}, nil
}

// abbreviate shortens a line for an error message.
func abbreviate(b []byte) string {
	const max = 60
	b = bytes.TrimSpace(b)
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
