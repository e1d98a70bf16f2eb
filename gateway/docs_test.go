package gateway

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/middleware"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

// docsHandler is the docs routes behind the gateway's security headers and authentication, as
// an anonymous browser meets them.
func docsHandler(t *testing.T) http.Handler {
	t.Helper()
	mux := http.NewServeMux()
	if err := mountDocs(mux); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return middleware.SecurityHeaders(false)(identify(&authn.Verifier{}, log)(requireAuth(mux)))
}

func get(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Every file under /api/docs is public, served with its type, and the page loads only those.
func TestDocsRoutesArePublic(t *testing.T) {
	files, err := docsFiles()
	if err != nil {
		t.Fatal(err)
	}
	h := docsHandler(t)
	// The gateway's policy, as every other route gets it.
	gatewayCSP := get(middleware.SecurityHeaders(false)(http.NotFoundHandler()), "/").Header().Get("Content-Security-Policy")
	if !strings.Contains(gatewayCSP, "default-src 'self'") || strings.Contains(gatewayCSP, "img-src") || strings.Contains(gatewayCSP, "unsafe-") {
		t.Fatalf("the gateway's policy changed: %q; check the docs page still needs nothing more", gatewayCSP)
	}
	served := map[string]bool{}
	for _, f := range files {
		if served[f.route] {
			t.Errorf("%s is served twice", f.route)
		}
		served[f.route] = true
		if !isPublic(httptest.NewRequest(http.MethodGet, f.route, nil)) {
			t.Errorf("%s is served but not public: anonymous readers would get 401", f.route)
			continue
		}
		w := get(h, f.route)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != f.contentType || !bytes.Equal(w.Body.Bytes(), f.body) {
			t.Errorf("GET %s: %d %q (%d bytes), want 200 %q (%d bytes)", f.route, w.Code, w.Header().Get("Content-Type"),
				w.Body.Len(), f.contentType, len(f.body))
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s lacks the security headers: %v", f.route, w.Header())
		}
		if got := w.Header().Get("Content-Security-Policy"); got != gatewayCSP {
			t.Errorf("GET %s: Content-Security-Policy %q, want the gateway's %q", f.route, got, gatewayCSP)
		}
	}
	for _, want := range []string{"/api/docs", "/api/docs/openapi.json", "/api/docs/fuzzyllama.binpb"} {
		if !served[want] {
			t.Errorf("%s is not served", want)
		}
	}
	// The stylesheet's images are files of their own, so the page needs no data: images.
	css := get(h, docsPrefix+"/swagger-ui/swagger-ui.css").Body.String()
	if strings.Contains(css, "data:") || !strings.Contains(css, `url("`+docsStylesheetImages+"/") {
		t.Errorf("the stylesheet still has data: URLs, or none of its images")
	}
	for _, img := range regexp.MustCompile(`url\("(`+regexp.QuoteMeta(docsStylesheetImages)+`/[^"]+)"\)`).FindAllStringSubmatch(css, -1) {
		if w := get(h, img[1]); w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "image/") {
			t.Errorf("GET %s: %d %s", img[1], w.Code, w.Header().Get("Content-Type"))
		}
	}
	for route, want := range map[string]string{"/api/docs/openapi.json": "application/json", "/api/docs/fuzzyllama.binpb": "application/octet-stream"} {
		if got := get(h, route).Header().Get("Content-Type"); got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", route, got, want)
		}
	}
	if w := get(h, "/api/docs/"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/api/docs" {
		t.Errorf("GET /api/docs/: %d %v", w.Code, w.Header())
	}
	// A HEAD is answered like its GET, without a token.
	head := httptest.NewRequest(http.MethodHead, "/api/docs/openapi.json", nil)
	hw := httptest.NewRecorder()
	h.ServeHTTP(hw, head)
	if hw.Code != http.StatusOK || hw.Body.Len() != 0 || hw.Header().Get("Content-Type") != "application/json" {
		t.Errorf("HEAD /api/docs/openapi.json: %d %v (%d bytes)", hw.Code, hw.Header(), hw.Body.Len())
	}
	// Anything else under /api/docs is not public.
	if w := get(h, "/api/docs/swagger-ui/swagger-ui-bundle.js.map"); w.Code != http.StatusUnauthorized {
		t.Errorf("unknown docs file: %d, want 401", w.Code)
	}

	page := get(h, "/api/docs").Body.String()
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("the page references %d files: %s", len(refs), page)
	}
	for _, m := range refs {
		if !served[m[1]] {
			t.Errorf("the page references %s, which is not served", m[1])
		}
	}
	// The CSP allows no inline script or style: every script is a file, and nothing is inline.
	if strings.Contains(page, "<style") || strings.Contains(page, " style=") || regexp.MustCompile(`<script>|<script [^>]*>[^<]`).MatchString(page) {
		t.Errorf("the page has inline script or style: %s", page)
	}
	// The e2e test and old links know the page's own script by this name.
	if !strings.Contains(page, `<script src="/api/docs/app.js">`) {
		t.Error("the page does not load /api/docs/app.js")
	}
	script := get(h, "/api/docs/app.js").Body.String()
	for _, want := range []string{`url: "/api/docs/openapi.json"`, "persistAuthorization: false", "validatorUrl: null", "queryConfigEnabled: false"} {
		if !strings.Contains(script, want) {
			t.Errorf("app.js lacks %s", want)
		}
	}
}

func TestDocsCachingAndCompression(t *testing.T) {
	h := docsHandler(t)
	const bundle = "/api/docs/swagger-ui/swagger-ui-bundle.js"
	plain := get(h, bundle)
	etag := plain.Header().Get("ETag")
	if plain.Code != http.StatusOK || etag == "" || plain.Header().Get("Content-Encoding") != "" || plain.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET %s: %d %v", bundle, plain.Code, plain.Header())
	}
	if w := get(h, bundle, "If-None-Match", etag); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("revalidation: %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := get(h, bundle, "If-None-Match", `"other"`); w.Code != http.StatusOK {
		t.Errorf("another ETag: %d", w.Code)
	}
	gz := get(h, bundle, "Accept-Encoding", "br, gzip")
	if gz.Header().Get("Content-Encoding") != "gzip" || gz.Header().Get("Vary") != "Accept-Encoding" || gz.Body.Len() >= plain.Body.Len()/2 {
		t.Fatalf("gzip: %v, %d bytes of %d", gz.Header(), gz.Body.Len(), plain.Body.Len())
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	if body, err := io.ReadAll(zr); err != nil || !bytes.Equal(body, plain.Body.Bytes()) {
		t.Errorf("the gzip body is not the file: %v", err)
	}
	if w := get(h, bundle, "Accept-Encoding", "gzip;q=0"); w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refused it")
	}
	icon := get(h, "/api/docs/swagger-ui/favicon-32x32.png", "Accept-Encoding", "gzip")
	if icon.Header().Get("Content-Encoding") != "" {
		t.Error("a PNG was gzipped")
	}
	// Browsers fetch the icons again on every history change (each operation opened): cached.
	if icon.Header().Get("Cache-Control") != "public, max-age=86400" {
		t.Errorf("icon Cache-Control %q", icon.Header().Get("Cache-Control"))
	}
	if cc := get(h, "/api/docs").Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("page Cache-Control %q", cc)
	}
}
