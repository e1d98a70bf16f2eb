// Command loadgen drives one URL with a fixed number of concurrent keep-alive connections for a
// fixed time and prints requests per second and latency percentiles as one JSON line. It is the
// load harness of docs/PERFORMANCE.md: a closed loop (each connection sends its next request
// when the previous answer arrives), like wrk. It exits with status 1 if a request failed (an
// error, or a status other than 200) or none succeeded.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type result struct {
	Name        string  `json:"name"`
	Connections int     `json:"connections"`
	Seconds     float64 `json:"seconds"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P90ms       float64 `json:"p90_ms"`
	P99ms       float64 `json:"p99_ms"`
}

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	url := flag.String("url", "", "URL to GET")
	name := flag.String("name", "", "label for the result")
	conns := flag.Int("c", 100, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "how long to run")
	warmup := flag.Duration("warmup", 2*time.Second, "load before measuring starts")
	var hdrs headers
	flag.Var(&hdrs, "H", "request header \"Name: value\" (repeatable)")
	flag.Parse()
	if *url == "" || *conns < 1 || *dur <= 0 {
		fmt.Fprintln(os.Stderr, "usage: loadgen -url URL [-c 100] [-d 10s] [-H 'Authorization: Bearer …']")
		os.Exit(2)
	}
	res, err := run(*url, *name, *conns, *dur, *warmup, hdrs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	// A run with failed requests measured something else than the URL's answer (and a broken
	// benchmark must fail its script).
	if res.Requests == 0 || res.Errors > 0 {
		fmt.Fprintf(os.Stderr, "loadgen: %s: %d requests answered 200, %d failed\n", *url, res.Requests, res.Errors)
		os.Exit(1)
	}
}

func run(url, name string, conns int, dur, warmup time.Duration, hdrs headers) (result, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 10 * time.Second}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return result{}, err
	}
	for _, h := range hdrs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return result{}, fmt.Errorf("header %q: want Name: value", h)
		}
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	ctx, cancel := context.WithTimeout(context.Background(), warmup+dur)
	defer cancel()
	measureFrom := time.Now().Add(warmup)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		wg        sync.WaitGroup
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			localErrs := 0
			for ctx.Err() == nil {
				start := time.Now()
				resp, err := client.Do(req.WithContext(ctx))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if ctx.Err() != nil || start.Before(measureFrom) {
					continue
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					localErrs++
					continue
				}
				local = append(local, time.Since(start))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += localErrs
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	return result{Name: name, Connections: conns, Seconds: dur.Seconds(), Requests: len(latencies), Errors: errs,
		RPS: float64(len(latencies)) / dur.Seconds(), P50ms: pct(0.50), P90ms: pct(0.90), P99ms: pct(0.99)}, nil
}
