package kubejob

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// maxScreenshotBytes bounds a preview's PNG.
const maxScreenshotBytes = 8 << 20

// screenshotTimeout bounds Chromium's page load and capture.
const screenshotTimeout = time.Minute

// preview starts the step's server, waits until it answers its health path, screenshots its
// page when asked, and stops it. The step passes when the server answered; a server that exits
// first fails with its exit code.
func (d *driver) preview(ctx context.Context, res *sandbox.StepResult, dir string, s sandbox.Step, env []string, limits sandbox.Limits) {
	p, err := d.start(dir, s.Command, env, limits)
	if err != nil {
		res.ExitCode, res.Log = -1, []byte(fmt.Sprintf("[sandbox: %s could not start: %v]\n", s.Command[0], err))
		return
	}
	base := "http://127.0.0.1:" + strconv.Itoa(s.Preview.Port)
	client := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.NewTimer(limits.WallClock)
	defer deadline.Stop()
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	healthy := false
	for !healthy {
		select {
		case <-p.done:
			res.ExitCode, res.Stopped = p.outcome(limits)
			if res.ExitCode == 0 && res.Stopped == "" {
				res.ExitCode = -1 // a server that ends by itself did not keep serving
			}
			p.output.Note(fmt.Sprintf("[sandbox: the server exited before answering GET %s on port %d]\n", s.Preview.HealthPath, s.Preview.Port))
		case reason := <-p.flooded:
			res.ExitCode, res.Stopped = -1, reason
		case <-deadline.C:
			res.ExitCode, res.Stopped = -1, fmt.Sprintf("wall-clock limit of %s reached before the server answered GET %s on port %d", limits.WallClock, s.Preview.HealthPath, s.Preview.Port)
		case <-ctx.Done():
			res.ExitCode, res.Stopped = -1, "the sandbox was stopped"
		case <-poll.C:
			healthy = answers(client, base+s.Preview.HealthPath)
			continue
		}
		break
	}
	if healthy {
		p.output.Note(fmt.Sprintf("[sandbox: the server answered GET %s after %s]\n", s.Preview.HealthPath, time.Since(p.started).Round(time.Millisecond)))
		if s.Preview.PagePath != "" {
			shot, err := d.screenshot(ctx, base+s.Preview.PagePath, limits)
			if err != nil {
				p.output.Note(fmt.Sprintf("[sandbox: no screenshot of %s: %v]\n", s.Preview.PagePath, err))
			}
			res.Screenshot = shot
		}
	}
	res.Duration = time.Since(p.started)
	d.stop(p)
	res.Log = p.output.Bytes()
}

// answers reports whether GET url answers 2xx or 3xx.
func answers(client *http.Client, url string) bool {
	resp, err := client.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

// screenshot captures url with headless Chromium. Chromium's own sandbox needs user namespaces,
// which the pod's seccomp profile refuses: the pod is the sandbox.
func (d *driver) screenshot(ctx context.Context, url string, limits sandbox.Limits) ([]byte, error) {
	file := filepath.Join(d.layout.Tmp, "fuzzyllama-screenshot.png")
	_ = os.Remove(file)
	limits.WallClock = screenshotTimeout
	argv := []string{"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--window-size=1280,800", "--screenshot=" + file, url}
	exitCode, stopped, _, log := d.runCommand(ctx, d.layout.Tmp, argv, d.baseEnv(), limits)
	if exitCode != 0 || stopped != "" {
		return nil, fmt.Errorf("chromium: exit code %d %s: %s", exitCode, stopped, log[:min(len(log), 1024)])
	}
	info, err := os.Lstat(file)
	if err != nil || !info.Mode().IsRegular() || info.Size() > maxScreenshotBytes {
		return nil, fmt.Errorf("chromium left no PNG of at most %d bytes", maxScreenshotBytes)
	}
	return os.ReadFile(file)
}
