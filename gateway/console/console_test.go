package console

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// build is a small console build as Vite writes it: index.html, unhashed files beside it, and
// hashed assets, some with precompressed siblings (whose bytes here are markers, not real
// compression: the handler never decodes them).
var build = fstest.MapFS{
	"index.html":             {Data: []byte("<!doctype html><title>console</title>")},
	"index.html.gz":          {Data: []byte("gz(index)")},
	"favicon.svg":            {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
	"robots.txt":             {Data: []byte("User-agent: *\n")},
	"assets/app-1a2b.js":     {Data: []byte("console.log('app')")},
	"assets/app-1a2b.js.br":  {Data: []byte("br(app)")},
	"assets/app-1a2b.js.gz":  {Data: []byte("gz(app)")},
	"assets/app-3c4d.css":    {Data: []byte("body{margin:0}")},
	"assets/app-3c4d.css.gz": {Data: []byte("gz(css)")},
	"assets/logo-5e6f.png":   {Data: []byte("\x89PNG\r\n\x1a\n")},
	"assets/font-7a8b.woff2": {Data: []byte("wOF2")},
	"orphan.js.br":           {Data: []byte("br(orphan)")},
}

func newHandler(t *testing.T) http.Handler {
	t.Helper()
	h, err := Handler(build)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func serve(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://gateway.test/", nil)
	r.URL.Path = target // set as is: httptest.NewRequest would refuse or clean some of these
	r.URL.RawPath = ""
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var env struct {
		Success bool
		Error   struct{ Code string }
	}
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("an error is not the JSON envelope: %q %s", w.Header().Get("Content-Type"), w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Success {
		t.Fatalf("not an error envelope: %s", w.Body)
	}
	return env.Error.Code
}

func TestTheEmbeddedBuildHasAnIndex(t *testing.T) {
	if _, err := fs.Stat(Files(), "index.html"); err != nil {
		t.Fatalf("the embedded build has no index.html: %v", err)
	}
	if _, err := Handler(Files()); err != nil {
		t.Fatal(err)
	}
}

func TestABuildWithoutIndexIsRefused(t *testing.T) {
	if _, err := Handler(fstest.MapFS{"assets/app.js": {Data: []byte("x")}}); err == nil {
		t.Fatal("a build without index.html was accepted")
	}
}

func TestFilesAreServedWithTheirTypeAndCaching(t *testing.T) {
	h := newHandler(t)
	for _, c := range []struct {
		path, contentType, cache, body string
	}{
		{"/", "text/html; charset=utf-8", "no-cache", "<!doctype html><title>console</title>"},
		{"/index.html", "text/html; charset=utf-8", "no-cache", "<!doctype html><title>console</title>"},
		{"/favicon.svg", "image/svg+xml", "no-cache", "<svg xmlns='http://www.w3.org/2000/svg'/>"},
		{"/robots.txt", "text/plain; charset=utf-8", "no-cache", "User-agent: *\n"},
		{"/assets/app-1a2b.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log('app')"},
		{"/assets/app-3c4d.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{margin:0}"},
		{"/assets/logo-5e6f.png", "image/png", "public, max-age=31536000, immutable", "\x89PNG\r\n\x1a\n"},
		{"/assets/font-7a8b.woff2", "font/woff2", "public, max-age=31536000, immutable", "wOF2"},
	} {
		w := serve(h, http.MethodGet, c.path)
		if w.Code != http.StatusOK || w.Body.String() != c.body {
			t.Errorf("%s: %d %q", c.path, w.Code, w.Body)
			continue
		}
		hd := w.Header()
		if hd.Get("Content-Type") != c.contentType || hd.Get("Cache-Control") != c.cache {
			t.Errorf("%s: type %q, cache %q", c.path, hd.Get("Content-Type"), hd.Get("Cache-Control"))
		}
		if etag := hd.Get("ETag"); !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
			t.Errorf("%s: ETag %q is not strong", c.path, etag)
		}
		if hd.Get("Vary") != "Accept-Encoding" || hd.Get("Content-Encoding") != "" {
			t.Errorf("%s: Vary %q, Content-Encoding %q", c.path, hd.Get("Vary"), hd.Get("Content-Encoding"))
		}
	}
}

func TestPrecompressedSiblings(t *testing.T) {
	h := newHandler(t)
	identity := serve(h, http.MethodGet, "/assets/app-1a2b.js").Header().Get("ETag")
	etags := map[string]string{"": identity}
	for _, c := range []struct {
		accept, encoding, body string
	}{
		{"", "", "console.log('app')"},
		{"gzip, deflate, br, zstd", "br", "br(app)"},
		{"br", "br", "br(app)"},
		{"gzip", "gzip", "gz(app)"},
		{"x-gzip", "gzip", "gz(app)"},
		{"GZIP;Q=0.5", "gzip", "gz(app)"},
		{"br;q=0, gzip", "gzip", "gz(app)"},
		{"br; q=0.0, gzip;q=0.000", "", "console.log('app')"},
		{"gzip;q=0.9, br;q=0.5", "gzip", "gz(app)"},
		{"gzip;q=0.5, br;q=0.5", "br", "br(app)"},
		{"*", "br", "br(app)"},
		{"*;q=0", "", "console.log('app')"},
		{"*;q=0, gzip", "gzip", "gz(app)"},
		{"br;q=0, *", "gzip", "gz(app)"},
		{"identity", "", "console.log('app')"},
		{"deflate, zstd", "", "console.log('app')"},
		{"br;q=2, gzip;q=nonsense", "", "console.log('app')"}, // malformed q-values refuse
	} {
		w := serve(h, http.MethodGet, "/assets/app-1a2b.js", "Accept-Encoding", c.accept)
		hd := w.Header()
		if w.Code != http.StatusOK || hd.Get("Content-Encoding") != c.encoding || w.Body.String() != c.body {
			t.Errorf("Accept-Encoding %q: %d, Content-Encoding %q, body %q", c.accept, w.Code, hd.Get("Content-Encoding"), w.Body)
		}
		if hd.Get("Content-Type") != "text/javascript; charset=utf-8" || hd.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: type %q, Vary %q", c.accept, hd.Get("Content-Type"), hd.Get("Vary"))
		}
		if prev, ok := etags[c.encoding]; ok && prev != hd.Get("ETag") {
			t.Errorf("%q: ETag %s, before %s", c.encoding, hd.Get("ETag"), prev)
		}
		etags[c.encoding] = hd.Get("ETag")
	}
	if etags[""] == etags["br"] || etags[""] == etags["gzip"] || etags["br"] == etags["gzip"] {
		t.Errorf("the representations share an ETag: %v", etags)
	}

	// Only a gzip sibling: br is not made up; no sibling: the file as built.
	css := serve(h, http.MethodGet, "/assets/app-3c4d.css", "Accept-Encoding", "br")
	if css.Header().Get("Content-Encoding") != "" || css.Body.String() != "body{margin:0}" {
		t.Errorf("br asked, only gzip exists: %q %q", css.Header().Get("Content-Encoding"), css.Body)
	}
	css = serve(h, http.MethodGet, "/assets/app-3c4d.css", "Accept-Encoding", "br, gzip")
	if css.Header().Get("Content-Encoding") != "gzip" || css.Body.String() != "gz(css)" {
		t.Errorf("br or gzip asked, gzip exists: %q %q", css.Header().Get("Content-Encoding"), css.Body)
	}
	png := serve(h, http.MethodGet, "/assets/logo-5e6f.png", "Accept-Encoding", "br, gzip")
	if png.Header().Get("Content-Encoding") != "" || png.Body.String() != "\x89PNG\r\n\x1a\n" {
		t.Errorf("no sibling: %q %q", png.Header().Get("Content-Encoding"), png.Body)
	}
	// The SPA fallback negotiates too: index.html has a gzip sibling.
	route := serve(h, http.MethodGet, "/projects/abc", "Accept-Encoding", "gzip")
	if route.Header().Get("Content-Encoding") != "gzip" || route.Body.String() != "gz(index)" {
		t.Errorf("fallback: %q %q", route.Header().Get("Content-Encoding"), route.Body)
	}
}

func TestSiblingsAreNotFilesOfTheirOwn(t *testing.T) {
	h := newHandler(t)
	for _, p := range []string{"/assets/app-1a2b.js.br", "/assets/app-1a2b.js.gz", "/index.html.gz", "/orphan.js.br", "/orphan.js"} {
		if w := serve(h, http.MethodGet, p, "Accept-Encoding", "br, gzip"); w.Code != http.StatusNotFound || errorCode(t, w) != "NOT_FOUND" {
			t.Errorf("%s: %d %s", p, w.Code, w.Body)
		}
	}
}

func TestHeadAndConditionalRequests(t *testing.T) {
	h := newHandler(t)
	get := serve(h, http.MethodGet, "/assets/app-1a2b.js")
	head := serve(h, http.MethodHead, "/assets/app-1a2b.js")
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("ETag") != get.Header().Get("ETag") ||
		head.Header().Get("Content-Length") != "18" || head.Header().Get("Content-Type") != get.Header().Get("Content-Type") {
		t.Errorf("HEAD: %d %v %q", head.Code, head.Header(), head.Body)
	}

	etag := get.Header().Get("ETag")
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		w := serve(h, http.MethodGet, "/assets/app-1a2b.js", "If-None-Match", inm)
		if w.Code != http.StatusNotModified || w.Body.Len() != 0 || w.Header().Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d %v", inm, w.Code, w.Header())
		}
	}
	if w := serve(h, http.MethodGet, "/assets/app-1a2b.js", "If-None-Match", `"stale"`); w.Code != http.StatusOK {
		t.Errorf("a stale ETag: %d", w.Code)
	}
	// The identity ETag does not validate the br representation, and the other way round.
	br := serve(h, http.MethodGet, "/assets/app-1a2b.js", "Accept-Encoding", "br", "If-None-Match", etag)
	if br.Code != http.StatusOK || br.Header().Get("Content-Encoding") != "br" {
		t.Errorf("identity ETag against br: %d %v", br.Code, br.Header())
	}
	brTag := br.Header().Get("ETag")
	if w := serve(h, http.MethodGet, "/assets/app-1a2b.js", "Accept-Encoding", "br", "If-None-Match", brTag); w.Code != http.StatusNotModified {
		t.Errorf("br ETag against br: %d", w.Code)
	}
	// index.html (and so every client route) revalidates to a 304.
	index := serve(h, http.MethodGet, "/").Header().Get("ETag")
	if w := serve(h, http.MethodGet, "/projects/p1/gates/2", "If-None-Match", index); w.Code != http.StatusNotModified ||
		w.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("client route revalidation: %d %v", w.Code, w.Header())
	}
}

func TestClientRoutesAnswerTheIndex(t *testing.T) {
	h := newHandler(t)
	index := serve(h, http.MethodGet, "/").Body.String()
	for _, p := range []string{"/login", "/projects/abc", "/projects/abc/", "/projects/abc/gates/3", "/reset-password",
		"/settings/v1.2", "/a/b/c/d/e", "/icons/", "//projects//abc"} {
		w := serve(h, http.MethodGet, p)
		if w.Code != http.StatusOK || w.Body.String() != index || w.Header().Get("Cache-Control") != "no-cache" ||
			w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%s: %d %v %q", p, w.Code, w.Header(), w.Body)
		}
	}
	// With a query string, as a reset link has.
	r := httptest.NewRequest(http.MethodGet, "/reset-password?token=abc", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Body.String() != index {
		t.Errorf("reset link: %d %q", w.Code, w.Body)
	}
}

func TestMissingFilesAreJSON404s(t *testing.T) {
	h := newHandler(t)
	for _, p := range []string{"/assets/missing-0000.js", "/assets/app-1a2b.css", "/assets/", "/assets", "/assets/deep/er",
		"/assets/route-looking", "/foo.js", "/robots2.txt", "/projects/abc/app.css", "/site.webmanifest", "/favicon.ico"} {
		w := serve(h, http.MethodGet, p)
		if w.Code != http.StatusNotFound || errorCode(t, w) != "NOT_FOUND" || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %v %s", p, w.Code, w.Header(), w.Body)
		}
		if strings.Contains(w.Body.String(), "<") {
			t.Errorf("%s: HTML in a 404: %s", p, w.Body)
		}
	}
}

func TestOddPathsStayInside(t *testing.T) {
	h := newHandler(t)
	index := serve(h, http.MethodGet, "/").Body.String()
	for _, c := range []struct {
		path   string
		status int
		body   string
	}{
		{"/../../../etc/passwd", http.StatusOK, index}, // cleaned to /etc/passwd: a client route
		{"/assets/../index.html", http.StatusOK, index},
		{"/assets/../../../assets/app-1a2b.js", http.StatusOK, "console.log('app')"},
		{"/./assets/./app-1a2b.js", http.StatusOK, "console.log('app')"},
		{"/../../etc/shadow.txt", http.StatusNotFound, ""},
		{"/..", http.StatusOK, index},
		{"/assets/..%2f..%2fgo.mod", http.StatusNotFound, ""},
		{"/assets\\..\\go.mod", http.StatusNotFound, ""},
		{"/\x00", http.StatusOK, index},
		{"/index.html\x00.js", http.StatusNotFound, ""},
		{"", http.StatusOK, index},
		{"/" + strings.Repeat("a/", 2000), http.StatusOK, index},
	} {
		w := serve(h, http.MethodGet, c.path)
		if w.Code != c.status || (c.body != "" && w.Body.String() != c.body) {
			t.Errorf("%q: %d %q", c.path, w.Code, w.Body)
		}
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	h := newHandler(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, "PROPFIND"} {
		for _, p := range []string{"/", "/index.html", "/assets/app-1a2b.js", "/projects/abc"} {
			w := serve(h, m, p)
			if w.Code != http.StatusMethodNotAllowed || errorCode(t, w) != "METHOD_NOT_ALLOWED" || w.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %d %v %s", m, p, w.Code, w.Header(), w.Body)
			}
		}
	}
}

func TestLooksLikeFile(t *testing.T) {
	for seg, want := range map[string]bool{
		"app.js": true, "robots.txt": true, "site.webmanifest": true, "x.woff2": true, "a.B": true,
		"abc": false, "v1.2": false, "report.": false, "a.b-c": false, "x.abcdefghijkl": false, "": false,
	} {
		if got := looksLikeFile(seg); got != want {
			t.Errorf("looksLikeFile(%q) = %v", seg, got)
		}
	}
}
