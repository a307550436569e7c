package testimage

import (
	"bytes"
	"io"
	"runtime"
)

type ioReadCloser = io.ReadCloser

func nopCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func goarch() string { return runtime.GOARCH }
