package gateway

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/fuzzyllama/fuzzyllama/gen"
)

// The API reference at /api/docs is Swagger UI (the swagger-ui-dist npm package, version pinned
// in web/package.json) served from copies embedded here: no CDN, nothing fetched at run time.
// The copies under docs_assets/swagger-ui are the package's files unchanged (scripts/web.sh
// checks them against the pinned package); index.html and app.js are ours. Everything the page
// loads is same-origin and no script or style is inline, so the gateway's Content-Security-Policy
// (default-src 'self', no 'unsafe-inline', no 'unsafe-eval') holds on the page unchanged; the
// stylesheet's data: images are served as files of their own (docs_images.go).
//
//go:embed docs_assets/index.html docs_assets/app.js docs_assets/swagger-ui/swagger-ui-bundle.js docs_assets/swagger-ui/swagger-ui.css docs_assets/swagger-ui/favicon-32x32.png docs_assets/swagger-ui/favicon-16x16.png
var docsAssets embed.FS

// docsPrefix is where the page and every file it or a client needs are served.
const docsPrefix = "/api/docs"

// docsAssetFiles maps the page's own routes to the embedded files and their types.
var docsAssetFiles = []struct{ route, file, contentType string }{
	{docsPrefix, "docs_assets/index.html", "text/html; charset=utf-8"},
	{docsPrefix + "/app.js", "docs_assets/app.js", "text/javascript; charset=utf-8"},
	{docsPrefix + "/swagger-ui/swagger-ui-bundle.js", "docs_assets/swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
	{docsPrefix + "/swagger-ui/swagger-ui.css", "docs_assets/swagger-ui/swagger-ui.css", "text/css; charset=utf-8"},
	{docsPrefix + "/swagger-ui/favicon-32x32.png", "docs_assets/swagger-ui/favicon-32x32.png", "image/png"},
	{docsPrefix + "/swagger-ui/favicon-16x16.png", "docs_assets/swagger-ui/favicon-16x16.png", "image/png"},
}

// docsStylesheetImages is where the stylesheet's images are served.
const docsStylesheetImages = docsPrefix + "/swagger-ui/img"

// contractTypes are the content types of the published contracts, by extension.
var contractTypes = map[string]string{
	".json":  "application/json",
	".binpb": "application/octet-stream",
}

// docFile is one file served under /api/docs.
type docFile struct {
	route       string
	contentType string
	body        []byte
	etag        string // weak: the gzip and identity forms share it

	gzipOnce sync.Once
	gzipped  []byte // nil when compressing does not pay
}

// docsFiles lists every file served under /api/docs: the page and its assets (the stylesheet's
// images among them), then the published contract documents. They are all embedded, so they are
// read once.
var docsFiles = sync.OnceValues(func() ([]*docFile, error) {
	var files []*docFile
	add := func(route, contentType string, body []byte) {
		sum := sha256.Sum256(body)
		files = append(files, &docFile{route: route, contentType: contentType, body: body,
			etag: `W/"` + hex.EncodeToString(sum[:12]) + `"`})
	}
	for _, a := range docsAssetFiles {
		body, err := docsAssets.ReadFile(a.file)
		if err != nil {
			return nil, fmt.Errorf("docs asset %s: %w", a.file, err)
		}
		if a.contentType == "text/css; charset=utf-8" {
			var images []cssImage
			if body, images, err = cssImagesToFiles(body, docsStylesheetImages); err != nil {
				return nil, fmt.Errorf("docs asset %s: %w", a.file, err)
			}
			for _, img := range images {
				add(img.route, img.contentType, img.body)
			}
		}
		add(a.route, a.contentType, body)
	}
	// The published contracts: every file of gen.API, under its own name.
	entries, err := fs.ReadDir(gen.API, "api")
	if err != nil {
		return nil, fmt.Errorf("published contracts: %w", err)
	}
	for _, e := range entries {
		contentType, ok := contractTypes[path.Ext(e.Name())]
		if e.IsDir() || !ok {
			return nil, fmt.Errorf("published contract api/%s: no content type for it (see contractTypes)", e.Name())
		}
		body, err := fs.ReadFile(gen.API, "api/"+e.Name())
		if err != nil {
			return nil, err
		}
		add(docsPrefix+"/"+e.Name(), contentType, body)
	}
	return files, nil
})

// isDocsRoute reports whether the docs serve "GET <path>" (they are public: see publicRoutes).
func isDocsRoute(route string) bool {
	return docsRoutes()[route]
}

var docsRoutes = sync.OnceValue(func() map[string]bool {
	files, _ := docsFiles() // an error fails mountDocs, and so the gateway's start
	routes := map[string]bool{}
	for _, f := range files {
		routes["GET "+f.route] = true
	}
	return routes
})

// mountDocs serves the API reference and the contract documents. Every route it adds is public
// (isDocsRoute; a test checks it).
func mountDocs(mux *http.ServeMux) error {
	files, err := docsFiles()
	if err != nil {
		return err
	}
	for _, f := range files {
		mux.Handle("GET "+f.route, f)
	}
	// The page's URLs are absolute, so a trailing slash only needs sending to the canonical one.
	mux.HandleFunc("GET "+docsPrefix+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, docsPrefix, http.StatusMovedPermanently)
	})
	return nil
}

// ServeHTTP answers the file with its ETag (the content changes only with a new binary),
// gzip-compressed for clients that accept it.
func (f *docFile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setRoute(r.Context(), f.route)
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", f.cacheControl())
	h.Set("ETag", f.etag)
	h.Add("Vary", "Accept-Encoding") // beside CORS's Vary: Origin
	if etagMatches(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if acceptsGzip(r) {
		if gz := f.compressed(); gz != nil {
			h.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// cacheControl revalidates everything on every use (ETag, so an unchanged file costs a 304),
// except the icons: browsers fetch them again on every history change (Swagger UI makes one per
// operation opened), and a day-old icon is harmless.
func (f *docFile) cacheControl() string {
	if strings.HasPrefix(f.contentType, "image/") {
		return "public, max-age=86400"
	}
	return "no-cache"
}

// compressed is the gzip form of the body, made on first use; nil for small or incompressible
// files.
func (f *docFile) compressed() []byte {
	f.gzipOnce.Do(func() {
		if len(f.body) < 1024 || f.contentType == "image/png" {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(f.body)
		if zw.Close() == nil && buf.Len() < len(f.body) {
			f.gzipped = buf.Bytes()
		}
	})
	return f.gzipped
}

// etagMatches is If-None-Match's weak comparison.
func etagMatches(header, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether the client accepts gzip (and did not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
