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

func TestZipRoundTrip(t *testing.T) {
	b := write(t, Zip)
	r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, _ := io.ReadAll(rc)
		rc.Close()
		got[f.Name] = string(content)
		if !f.Modified.Equal(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)) {
			t.Errorf("%s: modified %v", f.Name, f.Modified)
		}
	}
	if !maps.Equal(got, files) {
		t.Errorf("zip holds %v, want %v", got, files)
	}
}

func TestTarGzRoundTrip(t *testing.T) {
	gz, err := gzip.NewReader(bytes.NewReader(write(t, TarGz)))
	if err != nil {
		t.Fatal(err)
	}
	r := tar.NewReader(gz)
	got := map[string]string{}
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		content, _ := io.ReadAll(r)
		got[h.Name] = string(content)
		if h.Typeflag != tar.TypeReg || h.Mode != 0o644 {
			t.Errorf("%s: type %c mode %o, want a regular 0644 file", h.Name, h.Typeflag, h.Mode)
		}
	}
	if !maps.Equal(got, files) {
		t.Errorf("tar.gz holds %v, want %v", got, files)
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := NewWriter(io.Discard, "rar"); err == nil {
		t.Error("NewWriter(rar) succeeded")
	}
}
