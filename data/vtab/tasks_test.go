package vtab

import (
	"reflect"
	"testing"
	"testing/fstest"
)

func TestTasks(t *testing.T) {
	list := func(label string) *fstest.MapFile { return &fstest.MapFile{Data: lines("images/a.jpg " + label)} }
	fsys := fstest.MapFS{
		// Known folders, out of catalogue order; their class counts ignore the labels.
		"kitti/train800val200.txt":   list("0"),
		"svhn/train800val200.txt":    list("3"),
		"eurosat/train800val200.txt": list("1"),
		"cifar/train800val200.txt":   list("99"),
		// Unknown folders: the count of classes.txt, or 0 without one, whatever the labels.
		"zebra/train800val200.txt": list("2"),
		"zebra/test.txt":           list("6"),
		"zebra/classes.txt":        {Data: lines("a", "b", "c", "d", "e", "f", "g")},
		"zebra/notes.md":           {Data: []byte("not a list")},
		"apple/train800val200.txt": list("0"),
		// Not task folders.
		"upstream/train.txt":    list("9"),
		"empty/images/a.jpg":    {Data: []byte("x")},
		"train800val200.txt":    list("0"),
		"kitti.txt/placeholder": {Data: []byte("x")},
	}
	got, err := Tasks(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []Task{
		{"cifar", Natural, 100},
		{"svhn", Natural, 10},
		{"eurosat", Specialized, 10},
		{"kitti", Structured, 4},
		{"apple", "", 0},
		{"zebra", "", 7},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestTasksErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		fsys fstest.MapFS
		msg  string
	}{
		{"no task folder", fstest.MapFS{"a/train.txt": {Data: lines("images/a.jpg 0")}},
			"vtab: no task folder: no folder at the root holds train800val200.txt"},
		{"classes.txt disagrees with VTAB-1k", fstest.MapFS{
			"svhn/train800val200.txt": {Data: lines("images/a.jpg 0")},
			"svhn/classes.txt":        {Data: lines("zero", "one")},
		}, "vtab: svhn/classes.txt names 2 classes, but svhn has 10 in VTAB-1k: a folder that holds another data set needs a name of its own"},
		{"empty classes.txt", fstest.MapFS{
			"a/train800val200.txt": {Data: lines("images/a.jpg 0")},
			"a/classes.txt":        {Data: []byte("\n")},
		}, "vtab: a/classes.txt names no class, expected one class name per line"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Tasks(c.fsys)
			if err == nil || err.Error() != c.msg {
				t.Errorf("error %v\nwant %s", err, c.msg)
			}
		})
	}
}
