package gateway

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"strings"
)

// swagger-ui.css draws its icons (select arrows, copy-to-clipboard, the model expanders, the
// lock) as data: images. The gateway's Content-Security-Policy allows images from 'self' only,
// so rather than loosen it for the docs page, the gateway serves each of those images as a file
// of its own and the stylesheet points to it. The vendored stylesheet stays byte-for-byte the
// package's (scripts/web.sh checks it); the rewrite happens when the gateway starts.

// cssImage is an image taken out of a stylesheet.
type cssImage struct {
	route       string
	contentType string
	body        []byte
}

// cssURL matches url(...) in CSS: quoted (with backslash escapes) or not.
var cssURL = regexp.MustCompile(`url\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^)'"\s]*)\s*\)`)

// cssEscape matches a CSS string escape of one character (the stylesheets here use no hex
// escapes, which unescapeCSS refuses).
var cssEscape = regexp.MustCompile(`\\(.)`)

// imageExtensions name the image files by their media type.
var imageExtensions = map[string]string{"image/svg+xml": ".svg", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif"}

// cssImagesToFiles rewrites every data: image of css into a URL under prefix, and returns the
// images to serve there (named by their content's hash, so a name never changes meaning).
func cssImagesToFiles(css []byte, prefix string) ([]byte, []cssImage, error) {
	var images []cssImage
	seen := map[string]bool{}
	var failed error
	out := cssURL.ReplaceAllFunc(css, func(match []byte) []byte {
		arg := string(cssURL.FindSubmatch(match)[1])
		if len(arg) >= 2 && (arg[0] == '"' || arg[0] == '\'') {
			var err error
			if arg, err = unescapeCSS(arg[1 : len(arg)-1]); err != nil {
				failed = err
				return match
			}
		}
		if !strings.HasPrefix(arg, "data:") {
			return match
		}
		contentType, body, err := decodeDataURL(arg)
		if err != nil {
			failed = err
			return match
		}
		ext, ok := imageExtensions[contentType]
		if !ok {
			failed = fmt.Errorf("a data: URL of type %q in a stylesheet", contentType)
			return match
		}
		sum := sha256.Sum256(body)
		route := prefix + "/" + hex.EncodeToString(sum[:8]) + ext
		if !seen[route] {
			seen[route] = true
			images = append(images, cssImage{route: route, contentType: contentType, body: body})
		}
		return []byte(`url("` + route + `")`)
	})
	if failed != nil {
		return nil, nil, failed
	}
	return out, images, nil
}

// unescapeCSS resolves the backslash escapes of a CSS string.
func unescapeCSS(s string) (string, error) {
	var err error
	out := cssEscape.ReplaceAllStringFunc(s, func(e string) string {
		c := e[1]
		if strings.IndexByte("0123456789abcdefABCDEF\n", c) >= 0 {
			err = fmt.Errorf("a CSS escape %q this rewrite does not handle", e)
		}
		return e[1:]
	})
	return out, err
}

// decodeDataURL returns the media type and bytes of an RFC 2397 data: URL.
func decodeDataURL(u string) (contentType string, body []byte, err error) {
	meta, payload, ok := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !ok {
		return "", nil, fmt.Errorf("a data: URL without a comma")
	}
	isBase64 := strings.HasSuffix(meta, ";base64")
	contentType, _, err = mime.ParseMediaType(cmp.Or(strings.TrimSuffix(meta, ";base64"), "text/plain"))
	if err != nil {
		return "", nil, fmt.Errorf("a data: URL's media type: %w", err)
	}
	if isBase64 {
		body, err = base64.StdEncoding.DecodeString(payload)
	} else {
		var s string
		s, err = url.PathUnescape(payload)
		body = []byte(s)
	}
	return contentType, body, err
}
