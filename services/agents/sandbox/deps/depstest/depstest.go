// Package depstest serves what the fetches download, for the runners' tests to fetch without
// the network.
package depstest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// NPMRegistry serves one package, left-pad 1.3.0, as the npm registry does (its URL + "/" is
// the registry), and counts the requests it answers in requests.
func NPMRegistry(t *testing.T, requests *atomic.Int64) *httptest.Server {
	var tgz bytes.Buffer
	gz := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(gz)
	manifest := []byte(`{"name":"left-pad","version":"1.3.0","main":"index.js"}`)
	if err := tw.WriteHeader(&tar.Header{Name: "package/package.json", Mode: 0o644, Size: int64(len(manifest))}); err != nil {
		t.Fatal(err)
	}
	tw.Write(manifest)
	if err := errors.Join(tw.Close(), gz.Close()); err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(tgz.Bytes())
	var server *httptest.Server
	server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		switch r.URL.Path {
		case "/left-pad":
			fmt.Fprintf(w, `{"name":"left-pad","dist-tags":{"latest":"1.3.0"},"versions":{"1.3.0":{"name":"left-pad","version":"1.3.0",
				"dist":{"tarball":"%s/left-pad/-/left-pad-1.3.0.tgz","integrity":"sha512-%s"}}}}`, server.URL, base64.StdEncoding.EncodeToString(sum[:]))
		case "/left-pad/-/left-pad-1.3.0.tgz":
			w.Write(tgz.Bytes())
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(server.Close)
	return server
}

// Elsewhere is a server no fetch may reach (a registry an .npmrc or a lock file names): it
// answers 404 and counts the requests it gets in requests.
func Elsewhere(t *testing.T, requests *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}
