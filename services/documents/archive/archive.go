// Package archive writes a set of files as a .zip or .tar.gz stream: each file goes to the
// underlying writer as it is added, so an export of any size holds one file in memory at a time.
package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"time"
)

// Formats.
const (
	Zip   = "zip"
	TarGz = "tar_gz"
)

// ContentType is the media type of an archive of the format.
func ContentType(format string) string {
	if format == TarGz {
		return "application/gzip"
	}
	return "application/zip"
}

// Extension is the file name extension of an archive of the format.
func Extension(format string) string {
	if format == TarGz {
		return ".tar.gz"
	}
	return ".zip"
}

// Writer adds files to an archive.
type Writer struct {
	zip *zip.Writer
	tar *tar.Writer
	gz  *gzip.Writer
}

// NewWriter starts an archive of the format on w.
func NewWriter(w io.Writer, format string) (*Writer, error) {
	switch format {
	case Zip:
		return &Writer{zip: zip.NewWriter(w)}, nil
	case TarGz:
		gz := gzip.NewWriter(w)
		return &Writer{tar: tar.NewWriter(gz), gz: gz}, nil
	}
	return nil, fmt.Errorf("archive: unknown format %q", format)
}

// fileMode is every file's mode. A source tree carries no modes (the sandbox that builds it
// writes plain files too), so a script is run through its interpreter (sh scripts/dev.sh) and
// the exported repository behaves as the built one did.
const fileMode = 0o644

// Add adds a regular file (mode 0644) with the content and modification time. name is a
// slash-separated relative path.
func (w *Writer) Add(name string, content []byte, modTime time.Time) error {
	if w.zip != nil {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modTime.UTC()}
		h.SetMode(fileMode) // else unzip tools guess one from the (MS-DOS) attributes
		f, err := w.zip.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = f.Write(content)
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: fileMode, Size: int64(len(content)), ModTime: modTime.UTC(),
		Format: tar.FormatPAX} // PAX: long and non-ASCII names survive
	if err := w.tar.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := w.tar.Write(content)
	return err
}

// Close finishes the archive (it does not close the underlying writer).
func (w *Writer) Close() error {
	if w.zip != nil {
		return w.zip.Close()
	}
	if err := w.tar.Close(); err != nil {
		return err
	}
	return w.gz.Close()
}

// ReadAll returns every regular file of an archive of the format, keyed by name: what a person
// unpacking an export gets.
func ReadAll(format string, b []byte) (map[string][]byte, error) {
	files := map[string][]byte{}
	switch format {
	case Zip:
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, err
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			content, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			files[f.Name] = content
		}
		return files, nil
	case TarGz:
		gz, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return files, nil
			}
			if err != nil {
				return nil, err
			}
			if h.Typeflag != tar.TypeReg {
				return nil, fmt.Errorf("%s: not a regular file", h.Name)
			}
			if files[h.Name], err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("%s: %w", h.Name, err)
			}
		}
	}
	return nil, fmt.Errorf("archive: unknown format %q", format)
}
