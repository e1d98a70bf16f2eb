package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"maps"
	"testing"
	"time"
)

var files = map[string]string{
	"manifest.json":                    `{"documents":[]}`,
	"docs/architecture/system.md":      "# System\n",
	"docs/code/backend/main.go":        "package main\n",
	"docs/requirements/ünïcode-prd.md": "naïve\x00bytes",
	"docs/design/" + string(bytes.Repeat([]byte("long-"), 40)) + ".md": "a name past tar's 100 bytes",
}

func write(t *testing.T, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, format)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	for name, content := range files {
		if err := w.Add(name, []byte(content), at); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, format := range []string{Zip, TarGz} {
		got, err := ReadAll(format, write(t, format))
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !maps.EqualFunc(got, files, func(a []byte, b string) bool { return string(a) == b }) {
			t.Errorf("%s holds %v, want %v", format, got, files)
		}
	}
}

func TestModificationTimes(t *testing.T) {
	b := write(t, Zip)
	r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.File {
		if !f.Modified.Equal(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)) {
			t.Errorf("%s: modified %v", f.Name, f.Modified)
		}
	}
}

// TestModes: every file is a regular file of mode 0644 in both formats, as in a git export.
func TestModes(t *testing.T) {
	b := write(t, Zip)
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Mode() != 0o644 {
			t.Errorf("zip: %s has mode %v", f.Name, f.Mode())
		}
	}
	gz, err := gzip.NewReader(bytes.NewReader(write(t, TarGz)))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.FileInfo().Mode() != 0o644 {
			t.Errorf("tar: %s has mode %v", h.Name, h.FileInfo().Mode())
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := NewWriter(io.Discard, "rar"); err == nil {
		t.Error("NewWriter(rar) succeeded")
	}
	if _, err := ReadAll("rar", nil); err == nil {
		t.Error("ReadAll(rar) succeeded")
	}
}
