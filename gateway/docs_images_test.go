package gateway

import (
	"bytes"
	"strings"
	"testing"
)

func TestStylesheetImagesBecomeFiles(t *testing.T) {
	css := []byte(`a{background:url("data:image/svg+xml;charset=utf-8,<svg xmlns=\"http://www.w3.org/2000/svg\"><path fill=\"%23fff\"/></svg>") center}` +
		`b{background:url(data:image/png;base64,iVBORw0KGgo=)}c{background:url(/x.png)}` +
		`d{background:url('data:image/svg+xml;charset=utf-8,<svg xmlns=\"http://www.w3.org/2000/svg\"><path fill=\"%23fff\"/></svg>')}`)
	out, images, err := cssImagesToFiles(css, "/img")
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 2 {
		t.Fatalf("%d images, want 2 (the same SVG twice is one file): %+v", len(images), images)
	}
	svg, png := images[0], images[1]
	if svg.contentType != "image/svg+xml" || string(svg.body) != `<svg xmlns="http://www.w3.org/2000/svg"><path fill="#fff"/></svg>` || !strings.HasSuffix(svg.route, ".svg") {
		t.Errorf("svg: %s %q %s", svg.contentType, svg.body, svg.route)
	}
	if png.contentType != "image/png" || !bytes.HasPrefix(png.body, []byte("\x89PNG")) {
		t.Errorf("png: %s %q", png.contentType, png.body)
	}
	want := `a{background:url("` + svg.route + `") center}b{background:url("` + png.route + `")}c{background:url(/x.png)}d{background:url("` + svg.route + `")}`
	if string(out) != want {
		t.Errorf("rewritten:\n%s\nwant\n%s", out, want)
	}
	if _, _, err := cssImagesToFiles([]byte(`a{background:url(data:font/woff2;base64,AAAA)}`), "/img"); err == nil {
		t.Error("a data: URL that is not an image was accepted")
	}
}
