package bwrap

import (
	"os"
	"path/filepath"
	"sync/atomic"
)

// previewName is the file name the binary is mounted under inside a preview sandbox, where it
// starts the server, waits for it to answer and takes the screenshot (preview.go).
const previewName = "fuzzyllama-sandbox-preview"

var initCalled atomic.Bool

// Init must be called first thing in main (and in TestMain of tests that use a Runner): when
// the process is the preview probe the runner starts inside a sandbox, it does the probe's work
// and never returns; otherwise it returns at once. New refuses to work when Init was not called,
// because the probe would otherwise run the program's own main.
//
// (The helper each step starts through, re-executing this binary too, takes over earlier, in
// the initialisation of package stepinit, which this package imports: see there why.)
func Init() {
	initCalled.Store(true)
	if filepath.Base(os.Args[0]) == previewName {
		os.Exit(runPreview(os.Args[1:]))
	}
}
