package vtab_test

import (
	"fmt"
	"log"
	"math/rand"

	"github.com/velora-go/velora/data/vtab"
)

// Load a task of the embedded suite at 32×32 and cut its shuffled batches into 8×8
// patches for a ViT. For a real VTAB-1k tree, pass os.DirFS("/data/vtab-1k") instead
// of vtab.Default().
func Example() {
	suite := vtab.Default()
	tasks, err := vtab.Tasks(suite)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tasks {
		fmt.Printf("%s: %s, %d classes\n", t.Name, t.Group, t.Classes)
	}

	train, err := vtab.Load(suite, "mnist_rotation", vtab.Train800Val200, vtab.Config{Size: 32})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s/%s: %d images of %d×%d×%d\n", train.Task, train.Name, train.Len(), train.Size, train.Size, vtab.Channels)

	batches, err := train.Batches(256, rand.New(rand.NewSource(1)))
	if err != nil {
		log.Fatal(err)
	}
	for b := range batches {
		patches, err := b.Patches(8)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(b.Len(), "images, patches", patches.Shape(), "labels", b.Labels[:5])
	}
	// Output:
	// mnist: natural, 10 classes
	// mnist_inverted: specialized, 10 classes
	// mnist_rotation: structured, 4 classes
	// mnist_rotation/train800val200: 1000 images of 32×32×3
	// 256 images, patches (256, 16, 192) labels [2 3 2 0 2]
	// 256 images, patches (256, 16, 192) labels [1 2 0 1 2]
	// 256 images, patches (256, 16, 192) labels [1 3 1 3 2]
	// 232 images, patches (232, 16, 192) labels [0 0 1 2 1]
}
