// Command mkimage writes the busybox test image as a docker save tarball,
// for `make demo`: den load reads it offline.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/denproject/den/internal/testimage"
)

func main() {
	out := flag.String("o", "busybox.tar", "output file")
	tag := flag.String("t", "busybox:latest", "tag recorded in the archive")
	flag.Parse()
	img, err := testimage.Busybox()
	if err == nil {
		var t name.Tag
		if t, err = name.NewTag(*tag); err == nil {
			err = tarball.WriteToFile(*out, t, img)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}
