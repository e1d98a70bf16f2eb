package streamcall

import (
	"context"
	"errors"
	"io"
	"time"
)

// errSilent is the cause a watchdog cancels its call with.
var errSilent = errors.New("stream silent")

// watchdog cancels a call when the server has been silent for too long. It only runs while the
// call waits for the server, so time the caller spends handling text is not counted as silence.
type watchdog struct {
	timeout time.Duration
	timer   *time.Timer // nil when there is no limit
}

func newWatchdog(timeout time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{timeout: timeout}
	if timeout > 0 {
		w.timer = time.AfterFunc(timeout, func() { cancel(errSilent) })
		w.timer.Stop()
	}
	return w
}

func (w *watchdog) arm() {
	if w.timer != nil {
		w.timer.Reset(w.timeout)
	}
}

func (w *watchdog) disarm() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (w *watchdog) stop() { w.disarm() }

// reader returns r with every Read watched.
func (w *watchdog) reader(r io.Reader) io.Reader {
	if w.timer == nil {
		return r
	}
	return watchedReader{r: r, w: w}
}

type watchedReader struct {
	r io.Reader
	w *watchdog
}

func (wr watchedReader) Read(p []byte) (int, error) {
	wr.w.arm()
	defer wr.w.disarm()
	return wr.r.Read(p)
}
