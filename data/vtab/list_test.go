package vtab

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pkg/errors"
)

func TestReadList(t *testing.T) {
	fsys := fstest.MapFS{"svhn/test.txt": {Data: []byte(
		"images/test/000000.jpg 7\n" +
			"\n" + // blank lines are skipped
			"  ./images/test/000001.jpg\t0  \n" + // any white space; the path is cleaned
			"images/test/000002.png 12", // no final newline
	)}}
	got, err := readList(fsys, "svhn", Test)
	if err != nil {
		t.Fatal(err)
	}
	want := []entry{
		{path: "images/test/000000.jpg", label: 7, line: 1},
		{path: "images/test/000001.jpg", label: 0, line: 3},
		{path: "images/test/000002.png", label: 12, line: 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestReadListErrors(t *testing.T) {
	for _, c := range []struct {
		name, line, msg string
	}{
		{"one field", "images/a.jpg", `vtab: t/train800.txt:2: line "images/a.jpg", expected "<image path> <label>"`},
		{"three fields", "images/a b.jpg 1", `vtab: t/train800.txt:2: line "images/a b.jpg 1", expected "<image path> <label>"`},
		{"label not a number", "images/a.jpg seven", `vtab: t/train800.txt:2: label "seven", expected an integer ≥ 0`},
		{"negative label", "images/a.jpg -1", `vtab: t/train800.txt:2: label "-1", expected an integer ≥ 0`},
		{"fraction", "images/a.jpg 1.0", `vtab: t/train800.txt:2: label "1.0", expected an integer ≥ 0`},
		{"outside the folder", "../x/a.jpg 1", `vtab: t/train800.txt:2: image path "../x/a.jpg", expected a file inside the task folder`},
		{"absolute", "/a.jpg 1", `vtab: t/train800.txt:2: image path "/a.jpg", expected a file inside the task folder`},
		{"the folder itself", "images/.. 1", `vtab: t/train800.txt:2: image path "images/..", expected a file inside the task folder`},
		{"line too long", strings.Repeat("x", 70000) + " 1", `vtab: t/train800.txt:2: line longer than 65536 bytes, not "<image path> <label>"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{"t/train800.txt": {Data: lines("images/ok.jpg 0", c.line)}}
			_, err := readList(fsys, "t", Train800)
			if err == nil || err.Error() != c.msg {
				t.Errorf("error %v\nwant %s", err, c.msg)
			}
		})
	}
	_, err := readList(fstest.MapFS{}, "t", Val200)
	if err == nil || err.Error() != "vtab: list file t/val200.txt: file does not exist" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing list: %v", err)
	}
}
