package provider

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter returns the wait a Retry-After header value asks for, measured from now. The
// value is either delay-seconds or an HTTP-date. An empty, malformed, negative or past value
// yields 0: a bad header must never mean "wait forever" or "retry in the past". Callers should
// still cap the wait; a server may ask for hours.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	// The RFC allows only whole seconds; fractions ("1.5") are accepted because some proxies
	// send them and refusing them would only lose information.
	if secs, err := strconv.ParseFloat(h, 64); err == nil {
		return seconds(secs)
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// RetryAfterHeader returns the wait the response headers ask for. retry-after-ms (sent by
// Anthropic and OpenAI) is preferred for its precision; Retry-After is the standard fallback.
func RetryAfterHeader(h http.Header, now time.Time) time.Duration {
	if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After-Ms")), 64); err == nil {
		if d := seconds(ms / 1000); d > 0 {
			return d
		}
	}
	return ParseRetryAfter(h.Get("Retry-After"), now)
}

// seconds converts a number of seconds to a Duration, mapping NaN, infinities and negatives to
// 0 and saturating instead of overflowing.
func seconds(s float64) time.Duration {
	switch {
	case math.IsNaN(s) || math.IsInf(s, 0) || s <= 0:
		return 0
	case s >= float64(math.MaxInt64)/float64(time.Second):
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}
