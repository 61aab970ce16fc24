package cli

import (
	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/internal/check"
)

// Output is a file or folder a program writes at the end of a run, named by
// the flag that gives it; "" writes none. Ours recognises a file the
// program wrote before, which it may replace (files only).
type Output struct {
	Flag, Path string
	Folder     bool
	Ours       func(existing []byte) bool
}

// CheckOutputs refuses, before the run, every output it could not write at its
// end (a directory for a file, a missing folder, a file for a folder) or must
// not (a file the program did not write), naming the program and the flag:
// "c4: -json: results.json exists and is not a file this program wrote …".
func CheckOutputs(program string, outs ...Output) error {
	for _, o := range outs {
		if o.Path == "" {
			continue
		}
		var err error
		if o.Folder {
			err = checkpoint.CheckFolderPath(o.Path)
		} else {
			err = checkpoint.CheckFilePath(o.Path, o.Ours)
		}
		if err != nil {
			return check.Wrapf(err, "%s: %s", program, o.Flag)
		}
	}
	return nil
}
