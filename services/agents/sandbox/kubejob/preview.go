package kubejob

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/preview"
)

// screenshotTimeout bounds Chromium's page load and capture.
const screenshotTimeout = time.Minute

// errFlooded ends a preview's wait when its server prints far more than the log keeps.
var errFlooded = errors.New("the output limit was reached")

// preview starts the step's server, waits until it answers its health path, screenshots its
// page when asked, and stops it. The step passes when the server answered; a server that exits
// first fails with its exit code.
func (d *driver) preview(ctx context.Context, res *sandbox.StepResult, dir string, s sandbox.Step, env []string, limits sandbox.Limits) {
	p, err := d.start(dir, s.Command, env, limits)
	if err != nil {
		res.ExitCode, res.Log = -1, []byte(fmt.Sprintf("[sandbox: %s could not start: %v]\n", s.Command[0], err))
		return
	}
	waitCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	flood := ""
	go func() {
		select {
		case flood = <-p.flooded:
			cancel(errFlooded)
		case <-waitCtx.Done():
		}
	}()
	health := preview.URL(s.Preview.Port, s.Preview.HealthPath)
	_, err = preview.WaitHealthy(waitCtx, health, limits.WallClock, p.done)
	cancel(nil)
	switch {
	case errors.Is(err, preview.ErrServerExited):
		res.ExitCode, res.Stopped = p.outcome(limits)
		if res.ExitCode == 0 && res.Stopped == "" {
			res.ExitCode = -1 // a server that ends by itself did not keep serving
		}
		p.output.Note(fmt.Sprintf("[sandbox: the server exited before answering GET %s on port %d]\n", s.Preview.HealthPath, s.Preview.Port))
	case errors.Is(context.Cause(waitCtx), errFlooded):
		res.ExitCode, res.Stopped = -1, flood
	case ctx.Err() != nil:
		res.ExitCode, res.Stopped = -1, "the sandbox was stopped"
	case err != nil:
		res.ExitCode, res.Stopped = -1, fmt.Sprintf("wall-clock limit of %s reached before the server answered GET %s on port %d", limits.WallClock, s.Preview.HealthPath, s.Preview.Port)
		p.output.Note(fmt.Sprintf("[sandbox: %v]\n", err))
	default:
		p.output.Note(fmt.Sprintf("[sandbox: the server answered GET %s after %s]\n", s.Preview.HealthPath, time.Since(p.started).Round(time.Millisecond)))
		if s.Preview.PagePath != "" {
			shot, err := d.screenshot(ctx, preview.URL(s.Preview.Port, s.Preview.PagePath), limits)
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

// screenshot captures url with headless Chromium, under the step's limits but its own wall
// clock, into a directory of its own.
func (d *driver) screenshot(ctx context.Context, url string, limits sandbox.Limits) ([]byte, error) {
	dir, err := os.MkdirTemp(d.layout.Tmp, "screenshot-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	limits.WallClock = screenshotTimeout
	argv := append([]string{"chromium"}, preview.ChromiumArgs(url, dir, filepath.Join(dir, "profile"))...)
	exitCode, stopped, _, log := d.runCommand(ctx, dir, argv, d.baseEnv(), limits)
	if exitCode != 0 || stopped != "" {
		return nil, fmt.Errorf("chromium: exit code %d %s: %s", exitCode, stopped, log[:min(len(log), 1024)])
	}
	return preview.ReadScreenshot(dir)
}
