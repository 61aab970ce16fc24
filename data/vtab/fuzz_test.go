package vtab

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzLoad reads a task folder whose train800val200.txt is list and whose
// classes.txt is classes (none when empty), with the class count given as
// given%16 (0: none given). The folder holds the first three images of the embedded
// suite's mnist task under their own paths, and a directory images/dir. Load must not
// panic or hang: it either fails with a "vtab: " error or returns one example per list
// line, each label inside the class count it reports. The list reader's entries
// written back as lines must read the same. go test runs the seeds as ordinary tests;
// go test -fuzz=FuzzLoad -fuzztime 45s ./data/vtab explores further.
func FuzzLoad(f *testing.F) {
	suite := Default()
	list, err := fs.ReadFile(suite, "mnist/train800val200.txt")
	if err != nil {
		f.Fatal(err)
	}
	fsys := fstest.MapFS{"t/images/dir/a.png": {Data: []byte("x")}}
	sc := bufio.NewScanner(bytes.NewReader(list))
	var head []string // the first three lines, whose images the folder holds
	for len(head) < 3 && sc.Scan() {
		head = append(head, sc.Text())
		img := strings.Fields(sc.Text())[0]
		data, err := fs.ReadFile(suite, "mnist/"+img)
		if err != nil {
			f.Fatal(err)
		}
		fsys["t/"+img] = &fstest.MapFile{Data: data}
	}
	valid := []byte(strings.Join(head, "\n") + "\n")
	digits := []byte("zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n")
	f.Add(valid, digits, uint8(0))
	f.Add(valid, []byte(nil), uint8(10))
	f.Add(valid, []byte(nil), uint8(0)) // no class count
	f.Add(valid, digits, uint8(9))      // disagrees with classes.txt
	f.Add(valid, []byte("cat\ncat\n"), uint8(0))
	f.Add([]byte(head[0]+"\n\n  ./"+head[1]+"  \r\n"+strings.Replace(head[2], " 0", " 99", 1)), digits, uint8(0))
	f.Add([]byte("images/dir 1\n../x.png 0\n/abs.png 1\nimages/a.png -1\nimages/a.png 1.5\nimages/a.png\n"), digits, uint8(0))
	f.Add([]byte("images/missing.png 0\n"+strings.Repeat("x", 70000)+" 1\n"), digits, uint8(3))
	f.Fuzz(func(t *testing.T, list, classes []byte, given uint8) {
		tree := maps.Clone(fsys)
		tree["t/train800val200.txt"] = &fstest.MapFile{Data: list}
		if len(classes) > 0 {
			tree["t/classes.txt"] = &fstest.MapFile{Data: classes}
		}
		entries, err := readList(tree, "t", Train800Val200)
		if err == nil {
			checkEntries(t, tree, list, entries)
		}
		s, err := Load(tree, "t", Train800Val200, Config{Size: 4, Classes: int(given % 16)})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "vtab: ") {
				t.Fatalf("error %q has no package prefix", err)
			}
			return
		}
		if s.Len() != len(entries) || len(s.Images) != s.Len()*4*4*Channels || s.Classes < 1 ||
			given%16 != 0 && s.Classes != int(given%16) {
			t.Fatalf("%d examples of %d lines, %d values, %d classes (%d given)", s.Len(), len(entries), len(s.Images), s.Classes, given%16)
		}
		for i, l := range s.Labels {
			if l != entries[i].label || l >= s.Classes {
				t.Fatalf("example %d: label %d, list says %d, %d classes", i, l, entries[i].label, s.Classes)
			}
		}
		for _, v := range s.Images {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("pixel value %v", v)
			}
		}
	})
}

// checkEntries checks what readList made of list: clean paths inside the folder,
// non-negative labels, line numbers that grow and name non-blank lines, and the same
// entries again from the entries written back as lines.
func checkEntries(t *testing.T, tree fstest.MapFS, list []byte, entries []entry) {
	t.Helper()
	var again bytes.Buffer
	for i, e := range entries {
		if !fs.ValidPath(e.path) || e.path == "." || e.label < 0 || i > 0 && e.line <= entries[i-1].line {
			t.Fatalf("entry %d: %+v", i, e)
		}
		fmt.Fprintf(&again, "%s %d\n", e.path, e.label)
	}
	if n := bytes.Count(list, []byte("\n")) + 1; len(entries) > n {
		t.Fatalf("%d entries from %d lines", len(entries), n)
	}
	tree["t/again.txt"] = &fstest.MapFile{Data: again.Bytes()}
	back, err := readList(tree, "t", "again")
	if err != nil {
		t.Fatalf("entries written back: %v", err)
	}
	for i := range min(len(back), len(entries)) {
		back[i].line = entries[i].line
	}
	if !slices.Equal(back, entries) {
		t.Fatalf("entries %+v read back as %+v", entries, back)
	}
}
