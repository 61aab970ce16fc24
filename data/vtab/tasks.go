package vtab

import (
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
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
	Classes int    // labels run from 0 to Classes-1; 0 when nothing gives the count
}

// ClassesFile is the file in a task folder, beside the lists, that gives the classes
// of a task VTAB-1k does not define: one class name per line, in label order (the
// first name is label 0's class). Blank lines are skipped, white space around a name
// is not part of it, and no name may appear twice; the class count is the number of
// names. For example, a folder whose lists use the labels 0, 1 and 2:
//
//	cat
//	dog
//	horse
const ClassesFile = "classes.txt"

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
// tables. Other folders follow by name, without a group, with the class count of
// their ClassesFile, or 0 when they have none (Load then needs Config.Classes). The
// class count is never guessed from the labels: a typo in a label would change it. A
// root with no task folder is an error, and so is a ClassesFile that names no class,
// names one twice, or disagrees with the count of a task this package knows.
func Tasks(fsys fs.FS) ([]Task, error) {
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, check.Wrap(err, "vtab: list task folders")
	}
	var tasks []Task
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, listPath(d.Name(), Train800Val200)); err != nil {
			continue
		}
		t, _, err := taskInfo(fsys, d.Name())
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

// taskInfo describes the task folder name, from the catalogue when it knows the name,
// and from its ClassesFile when it has one (the two must agree), and says where the
// class count comes from. Classes is 0 when neither gives it.
func taskInfo(fsys fs.FS, name string) (Task, string, error) {
	if _, err := fs.Stat(fsys, name); err != nil {
		return Task{}, "", errors.WithMessage(pathError("task folder", name, err), "vtab")
	}
	t, from := Task{Name: name}, ""
	if i := slices.IndexFunc(catalogue, func(c Task) bool { return c.Name == name }); i >= 0 {
		t, from = catalogue[i], "VTAB-1k's table"
	}
	file := path.Join(name, ClassesFile)
	n, err := readClasses(fsys, file)
	switch {
	case err != nil:
		return Task{}, "", err
	case n > 0 && t.Classes > 0 && n != t.Classes:
		return Task{}, "", errors.Errorf("vtab: %s names %d classes, but %s has %d in VTAB-1k: "+
			"a folder that holds another data set needs a name of its own", file, n, name, t.Classes)
	case n > 0:
		t.Classes, from = n, file
	}
	return t, from, nil
}

// readClasses returns the number of class names in a ClassesFile, or 0 when there is
// no such file.
func readClasses(fsys fs.FS, name string) (int, error) {
	data, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, errors.WithMessage(pathError("classes file", name, err), "vtab")
	}
	seen := map[string]int{} // line of each name
	for i, line := range strings.Split(string(data), "\n") {
		class := strings.TrimSpace(line)
		if class == "" {
			continue
		}
		if first, dup := seen[class]; dup {
			return 0, errors.Errorf("vtab: %s:%d: class %q is already on line %d", name, i+1, class, first)
		}
		seen[class] = i + 1
	}
	if len(seen) == 0 {
		return 0, errors.Errorf("vtab: %s names no class, expected one class name per line", name)
	}
	return len(seen), nil
}

// classCount returns the class count of a task and where it comes from: given
// (Config.Classes) when positive, which must then agree with the count of the
// catalogue or the ClassesFile where they give one, else theirs. Nothing giving one is
// an error that says how to give it.
func classCount(fsys fs.FS, task string, given int) (int, string, error) {
	t, from, err := taskInfo(fsys, task)
	switch {
	case err != nil:
		return 0, "", err
	case given > 0 && t.Classes > 0 && given != t.Classes:
		return 0, "", errors.Errorf("vtab: task %s: class count %d (Config.Classes, the example's -classes), but %s gives %d", task, given, from, t.Classes)
	case given > 0:
		return given, "Config.Classes", nil
	case t.Classes == 0:
		return 0, "", errors.Errorf("vtab: task %s has no class count: it is not a VTAB-1k task and has no %s; "+
			"write the names of its classes there, one per line in label order, or give the count (Config.Classes, the example's -classes)",
			task, path.Join(task, ClassesFile))
	}
	return t.Classes, from, nil
}
