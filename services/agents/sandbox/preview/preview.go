// Package preview is how both sandbox runners probe a preview step's server, next to it (in
// its sandbox or pod): the step's Preview checked, its health path polled until it answers, and
// its page screenshotted with headless Chromium.
package preview

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/capture"
)

// Check says what is wrong with a step's Preview, if anything.
func Check(p *sandbox.Preview) error {
	switch {
	case p.Port < 1 || p.Port > 65535:
		return fmt.Errorf("the preview port %d is not a TCP port", p.Port)
	case !strings.HasPrefix(p.HealthPath, "/"):
		return fmt.Errorf("the preview's health path %q does not start with /", p.HealthPath)
	case p.PagePath != "" && !strings.HasPrefix(p.PagePath, "/"):
		return fmt.Errorf("the preview's page path %q does not start with /", p.PagePath)
	}
	return nil
}

// URL is the address of path on the server of a preview on port, on the loopback it shares
// with the probe.
func URL(port int, path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(port) + path
}

// ErrServerExited is WaitHealthy's error when the server ended before it answered.
var ErrServerExited = errors.New("the server exited")

// WaitHealthy polls url until it answers 2xx or 3xx (its status), the server exits (exited is
// closed: ErrServerExited), ctx ends (its error) or wait is over (an error saying what the last
// try got).
func WaitHealthy(ctx context.Context, url string, wait time.Duration, exited <-chan struct{}) (int, error) {
	deadline := time.Now().Add(wait)
	var last string
	for {
		// A server that accepts and never answers holds a request 2 s at most, and not past the
		// deadline.
		status, err := Status(ctx, url, min(2*time.Second, time.Until(deadline)))
		switch {
		case err != nil && (last == "" || !errors.Is(err, context.DeadlineExceeded)):
			last = err.Error() // a try the deadline cut short says less than an earlier answer
		case err != nil:
		case status >= 200 && status < 400:
			return status, nil
		default:
			last = "it answered " + strconv.Itoa(status)
		}
		// No try is left for the deadline itself: it would only say that it had no time.
		pause := min(250*time.Millisecond, time.Until(deadline))
		if pause > 0 {
			select {
			case <-exited:
				return 0, ErrServerExited
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(pause):
			}
		}
		if !time.Now().Before(deadline) {
			return 0, fmt.Errorf("the server did not answer %s with a 2xx or 3xx within %s (last: %s)", url, wait.Round(time.Second), last)
		}
	}
}

// noRedirects makes a redirect the answer: a 3xx is healthy.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Status is the status of a GET of url within timeout.
func Status(ctx context.Context, url string, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// ScreenshotName is the file Chromium writes the screenshot to, in the directory given to
// ChromiumArgs.
const ScreenshotName = "screenshot.png"

// MaxScreenshotBytes bounds a preview's PNG.
const MaxScreenshotBytes = 8 << 20

// ChromiumArgs are the arguments, after Chromium's own path, that screenshot url into
// dir/ScreenshotName, keeping Chromium's profile in profile. Chromium's own sandbox is off: it
// cannot make namespaces inside the runner's sandbox (nor in a pod whose seccomp profile refuses
// them), which contains it already.
func ChromiumArgs(url, dir, profile string) []string {
	return []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-extensions", "--hide-scrollbars", "--user-data-dir=" + profile,
		"--window-size=1280,800", "--screenshot=" + dir + "/" + ScreenshotName, url}
}

// ReadScreenshot is the PNG Chromium left in dir, read without following a link.
func ReadScreenshot(dir string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := capture.ReadResult(root, ScreenshotName, MaxScreenshotBytes)
	switch {
	case err != nil:
		return nil, fmt.Errorf("Chromium left no screenshot of at most %s: %w", sandbox.FormatBytes(MaxScreenshotBytes), err)
	case !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return nil, errors.New("Chromium's screenshot is not a PNG")
	}
	return data, nil
}
