// Package console serves the web console: the production build of web/ (Vite writes it into
// dist/, and it is committed), embedded in the binary and served by the gateway at /.
//
// The build is index.html, a few unhashed files beside it (icons, robots.txt, ...) and
// assets/<name>-<hash>.<ext>, with precompressed siblings X.br and X.gz of the files worth
// compressing. Handler reads the whole tree once, at start:
//
//   - a path naming a file answers it, with its type, a strong ETag per representation, and
//     Vary: Accept-Encoding; a client that accepts br (preferred) or gzip gets the precompressed
//     sibling when there is one, with Content-Encoding. The siblings are never served as files
//     of their own.
//   - files under assets/ have content-hashed names, so they are cached for a year as
//     immutable; everything else (index.html above all) is revalidated on every use (no-cache,
//     so an unchanged file costs a 304).
//   - a missing file under /assets/, or a missing path whose last segment looks like a file
//     name (/robots.txt, /x.js), is a 404 in the gateway's JSON envelope: a missing script must
//     never get HTML. Every other path is a route of the client (/projects/abc, /login) and
//     answers index.html.
//   - only GET and HEAD; anything else is a 405.
//
// Nothing is read from the file system at request time: a request can only name a file that
// was in the tree at start, so "..", encoded slashes and the like cannot reach anything else.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
)

// dist is the console's build (web/: npm run build). The placeholder index.html committed
// before the first build keeps the embed valid; the build replaces it.
//
//go:embed all:dist
var dist embed.FS

// Files is the embedded build, rooted at dist/.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: fs.Sub cannot fail on it
	}
	return sub
}

// Cache-Control values: hashed assets never change under their name; the rest is revalidated.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// assetsDir holds the build's content-hashed files.
const assetsDir = "assets"

// Precompressed siblings, in order of preference, by the Content-Encoding they are served with.
var encodings = []struct{ coding, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

// types are the content types of the files a web build holds, by extension. They are fixed here
// rather than taken from the host's MIME tables, which differ between systems (the gateway sends
// nosniff, so a wrong type breaks the page); others fall back to mime.TypeByExtension, then to
// sniffing the content.
var types = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".txt":         "text/plain; charset=utf-8",
	".xml":         "application/xml",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".wasm":        "application/wasm",
}

// representation is one form of a file's content: as built, or one precompressed sibling.
type representation struct {
	body     []byte
	etag     string // strong: a hash of these very bytes
	encoding string // the Content-Encoding; "" for the file as built
}

func newRepresentation(body []byte, encoding string) *representation {
	sum := sha256.Sum256(body)
	return &representation{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, encoding: encoding}
}

// file is one servable file of the build.
type file struct {
	contentType  string
	cacheControl string
	identity     *representation
	encoded      map[string]*representation // by coding ("br", "gzip")
}

type handler struct {
	files map[string]*file // by path relative to the root: "index.html", "assets/app-1a2b.js"
	index *file
}

// Handler serves the build in fsys (see the package comment). It reads every file of fsys once,
// now, and fails if fsys has no index.html.
func Handler(fsys fs.FS) (http.Handler, error) {
	contents := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil // directories (and anything that is not a plain file) are not served
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		contents[name] = body
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: read the build: %w", err)
	}
	h := &handler{files: map[string]*file{}}
	for name, body := range contents {
		if isSibling(name) {
			continue // served only in place of the file it compresses
		}
		f := &file{contentType: contentType(name, body), cacheControl: cacheRevalidate,
			identity: newRepresentation(body, ""), encoded: map[string]*representation{}}
		if strings.HasPrefix(name, assetsDir+"/") {
			f.cacheControl = cacheImmutable
		}
		for _, e := range encodings {
			if b, ok := contents[name+e.suffix]; ok {
				f.encoded[e.coding] = newRepresentation(b, e.coding)
			}
		}
		h.files[name] = f
	}
	if h.index = h.files["index.html"]; h.index == nil {
		return nil, errors.New("console: the build has no index.html")
	}
	return h, nil
}

func isSibling(name string) bool {
	for _, e := range encodings {
		if strings.HasSuffix(name, e.suffix) {
			return true
		}
	}
	return false
}

func contentType(name string, body []byte) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := types[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return http.DetectContentType(body)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		envelope.WriteError(w, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
			"method "+r.Method+" is not allowed on "+envelope.Clip(r.URL.Path), nil)
		return
	}
	f := h.lookup(r.URL.Path)
	if f == nil {
		envelope.WriteError(w, r, http.StatusNotFound, "NOT_FOUND", "no such file: "+envelope.Clip(r.URL.Path), nil)
		return
	}
	f.serve(w, r)
}

// lookup finds the file a URL path names, index.html for a route of the client, or nil.
func (h *handler) lookup(urlPath string) *file {
	// Clean of a rooted path never climbs above the root.
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if name == "" {
		return h.index
	}
	if f, ok := h.files[name]; ok {
		return f
	}
	if name == assetsDir || strings.HasPrefix(name, assetsDir+"/") || looksLikeFile(path.Base(name)) {
		return nil
	}
	return h.index
}

// looksLikeFile reports whether a path's last segment reads as a file name: it ends in an
// extension of 1 to 11 letters and digits, at least one a letter (x.js, robots.txt,
// site.webmanifest; not v1.2). The client's routes never end so.
func looksLikeFile(segment string) bool {
	ext := strings.TrimPrefix(path.Ext(segment), ".")
	if ext == "" || len(ext) > 11 {
		return false
	}
	letter := false
	for _, c := range ext {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return letter
}

// serve answers f in the representation the client prefers. http.ServeContent answers the
// conditional requests (If-None-Match against the representation's ETag: 304), ranges and HEAD.
func (f *file) serve(w http.ResponseWriter, r *http.Request) {
	rep := f.negotiate(r.Header.Get("Accept-Encoding"))
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", f.cacheControl)
	h.Add("Vary", "Accept-Encoding") // beside CORS's Vary: Origin
	h.Set("ETag", rep.etag)
	if rep.encoding != "" {
		h.Set("Content-Encoding", rep.encoding)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(rep.body))
}

// negotiate picks the representation for an Accept-Encoding header: the precompressed sibling
// with the highest q-value the client gives it (br on a tie), or the file as built when the
// client accepts neither (or sent no header) or the sibling does not exist.
func (f *file) negotiate(acceptEncoding string) *representation {
	if len(f.encoded) == 0 || acceptEncoding == "" {
		return f.identity
	}
	q := acceptedCodings(acceptEncoding)
	best, bestQ := f.identity, 0.0
	for _, e := range encodings {
		if rep, ok := f.encoded[e.coding]; ok && q(e.coding) > bestQ {
			best, bestQ = rep, q(e.coding)
		}
	}
	return best
}

// acceptedCodings parses Accept-Encoding (RFC 9110 §12.5.3) into the q-value of a coding: its
// own entry's, else that of "*", else 0 (not acceptable). q=0 refuses a coding; an entry whose
// q is malformed counts as refusing it. x-gzip is gzip.
func acceptedCodings(header string) func(coding string) float64 {
	given := map[string]float64{}
	for _, part := range strings.Split(header, ",") {
		params := strings.Split(part, ";")
		coding := strings.ToLower(strings.TrimSpace(params[0]))
		if coding == "" {
			continue
		}
		if coding == "x-gzip" {
			coding = "gzip"
		}
		q := 1.0
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				q = parseQ(strings.TrimSpace(v))
			}
		}
		given[coding] = q
	}
	return func(coding string) float64 {
		if q, ok := given[coding]; ok {
			return q
		}
		return given["*"]
	}
}

// parseQ reads a qvalue ("0", "0.5", "1.000"); anything malformed or out of range is 0.
func parseQ(s string) float64 {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0
	}
	q, err := strconv.ParseFloat(s, 64)
	if err != nil || q < 0 || q > 1 {
		return 0
	}
	return q
}
