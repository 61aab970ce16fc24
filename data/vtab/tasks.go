package vtab

import (
	"io/fs"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// Group is a VTAB-1k task group.
type Group string

// The three groups, in the order VTAB-1k tables list them.
const (
	Natural     Group = "natural"
	Specialized Group = "specialized"
	Structured  Group = "structured"
)

// Task is one task folder of a VTAB-1k tree.
type Task struct {
	Name    string // folder name, e.g. "cifar"
	Group   Group  // "" for a folder this package does not know
	Classes int    // labels run from 0 to Classes-1
}

// catalogue holds the 19 VTAB-1k folders under the names NOAH's downloader writes and
// SSF, FacT and Hydra read, with FacT's class counts, in the order of their tables;
// then the tasks of the embedded suite. A folder named here takes its group and class
// count from here, so a class that no list happens to contain still counts.
var catalogue = []Task{
	{"cifar", Natural, 100},
	{"caltech101", Natural, 102},
	{"dtd", Natural, 47},
	{"oxford_flowers102", Natural, 102},
	{"oxford_iiit_pet", Natural, 37},
	{"svhn", Natural, 10},
	{"sun397", Natural, 397},
	{"patch_camelyon", Specialized, 2},
	{"eurosat", Specialized, 10},
	{"resisc45", Specialized, 45},
	{"diabetic_retinopathy", Specialized, 5},
	{"clevr_count", Structured, 8},
	{"clevr_dist", Structured, 6},
	{"dmlab", Structured, 6},
	{"kitti", Structured, 4},
	{"dsprites_loc", Structured, 16},
	{"dsprites_ori", Structured, 16},
	{"smallnorb_azi", Structured, 18},
	{"smallnorb_ele", Structured, 9},
	{"mnist", Natural, 10},
	{"mnist_inverted", Specialized, 10},
	{"mnist_rotation", Structured, 4},
}

// Tasks lists the task folders at the root of fsys: the folders that hold a
// train800val200.txt list. The folders it knows, the 19 of VTAB-1k and the three of
// the embedded suite, come first with the group and class count of their data set:
// natural, specialized, then structured, each group in the order of the VTAB-1k
// tables. Other folders follow by name, without a group, their class count one more
// than the largest label in any of their list files (*.txt). A root with no task
// folder is an error.
func Tasks(fsys fs.FS) ([]Task, error) {
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, errors.Wrap(err, "vtab: list task folders")
	}
	var tasks []Task
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, listPath(d.Name(), Train800Val200)); err != nil {
			continue
		}
		t, err := taskInfo(fsys, d.Name())
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	if len(tasks) == 0 {
		return nil, errors.Errorf("vtab: no task folder: no folder at the root holds %s.txt", Train800Val200)
	}
	slices.SortStableFunc(tasks, func(a, b Task) int { return rank(a) - rank(b) })
	return tasks, nil
}

// rank orders tasks for Tasks: by group, then by place in the catalogue; unknown
// tasks last (ReadDir has already sorted them by name).
func rank(t Task) int {
	groups := []Group{Natural, Specialized, Structured}
	g := slices.Index(groups, t.Group)
	if g < 0 {
		return len(groups) * len(catalogue) // after every known task
	}
	return g*len(catalogue) + slices.IndexFunc(catalogue, func(c Task) bool { return c.Name == t.Name })
}

// taskInfo describes the task folder name: from the catalogue when it knows the name,
// otherwise from the labels of every list file in the folder.
func taskInfo(fsys fs.FS, name string) (Task, error) {
	if i := slices.IndexFunc(catalogue, func(c Task) bool { return c.Name == name }); i >= 0 {
		return catalogue[i], nil
	}
	files, err := fs.ReadDir(fsys, name)
	if err != nil {
		return Task{}, errors.WithMessage(pathError("task folder", name, err), "vtab")
	}
	t := Task{Name: name}
	for _, f := range files {
		split, ok := strings.CutSuffix(f.Name(), ".txt")
		if !ok || f.IsDir() {
			continue
		}
		entries, err := readList(fsys, name, split)
		if err != nil {
			return Task{}, err
		}
		for _, e := range entries {
			t.Classes = max(t.Classes, e.label+1)
		}
	}
	if t.Classes == 0 {
		return Task{}, errors.Errorf("vtab: task folder %s: no labelled example in any list file (*.txt)", name)
	}
	return t, nil
}
