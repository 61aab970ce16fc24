package checkpoint

import (
	"archive/zip"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// zipTime is the modification time of every entry WriteNPZ writes: a fixed
// valid MS-DOS date keeps the output deterministic.
var zipTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// ReadNPZ loads the arrays of the NumPy .npz archive at path (np.savez or
// np.savez_compressed) keyed by their names without ".npy", such as
// "Transformer/encoderblock_0/LayerNorm_0/scale". '<f4' arrays load as
// float32, '<f8' as float64 and '<f2' widened to float32; Fortran-order
// arrays are reordered to C order.
func ReadNPZ(path string) (map[string]*tensor.Dense, error) {
	tensors, err := readNPZ(path)
	if err != nil {
		return nil, errors.Wrapf(err, "checkpoint: read npz %s", path)
	}
	return tensors, nil
}

func readNPZ(path string) (map[string]*tensor.Dense, error) {
	r, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	tensors := make(map[string]*tensor.Dense, len(r.File))
	for _, f := range r.File {
		key, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, errors.Errorf("entry %q is not a .npy file", f.Name)
		}
		if _, dup := tensors[key]; dup {
			return nil, errors.Errorf("key %q appears twice", key)
		}
		t, err := readNPYEntry(f)
		if err != nil {
			return nil, errors.Wrapf(err, "key %q", key)
		}
		tensors[key] = t
	}
	return tensors, nil
}

func readNPYEntry(f *zip.File) (*tensor.Dense, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	return decodeNPY(raw)
}

// WriteNPZ saves tensors at path as np.savez does: an uncompressed zip
// archive with one version 1.0 .npy file per key (float32 as '<f4', float64
// as '<f8', C order), keys sorted. The file is written atomically: a failed
// WriteNPZ leaves whatever was at path.
func WriteNPZ(path string, tensors map[string]*tensor.Dense) error {
	err := WriteAtomic(path, func(w io.Writer) error {
		return writeNPZ(w, tensors)
	})
	return errors.Wrapf(err, "checkpoint: write npz %s", path)
}

func writeNPZ(w io.Writer, tensors map[string]*tensor.Dense) error {
	zw := zip.NewWriter(w)
	for _, key := range slices.Sorted(maps.Keys(tensors)) {
		if err := writeNPYEntry(zw, key, tensors[key]); err != nil {
			return errors.Wrapf(err, "key %q", key)
		}
	}
	return zw.Close()
}

func writeNPYEntry(zw *zip.Writer, key string, t *tensor.Dense) error {
	raw, err := encodeNPY(t)
	if err != nil {
		return err
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: key + ".npy", Method: zip.Store, Modified: zipTime})
	if err != nil {
		return err
	}
	_, err = w.Write(raw)
	return err
}
