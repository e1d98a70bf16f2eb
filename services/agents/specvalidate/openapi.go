// Package specvalidate checks the API specification an architect agent writes, with a real
// OpenAPI parser (kin-openapi) rather than a pattern match, so a gate only passes a document a
// code generator or API gateway would also accept.
//
// The content comes from a language model, so it is treated as hostile: its size is capped,
// the work is bounded in time, external $refs are never followed (no URL is fetched and no
// file read), and a panic in the parser is reported as a failed check rather than taking the
// service down.
package specvalidate

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// Result is the outcome of a check: whether the document passed, and one human-readable
// summary of why, meant to be shown to the reviewer and fed back to the model.
type Result struct {
	Pass    bool
	Summary string
}

const (
	// maxSize bounds the parser's memory and time; a real API specification is a few
	// hundred kilobytes at most.
	maxSize = 1 << 20
	// timeout bounds one check even if the parser is slow on some pathological input.
	timeout = 10 * time.Second
	// failPrefix starts every summary of a document that was read and found wanting.
	failPrefix = "invalid OpenAPI document: "
)

// OpenAPI validates an OpenAPI 3.x document given as YAML or JSON, either raw or inside a
// fenced code block of a markdown document (see extract). It never panics.
func OpenAPI(ctx context.Context, content []byte) Result {
	if len(content) > maxSize {
		return fail(fmt.Sprintf("the document is %d bytes, over the %d-byte (1 MiB) limit", len(content), maxSize))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if ctx.Err() != nil { // the caller gave up already: start nothing
		return unfinished(ctx)
	}

	// kin-openapi does not look at the context, so the parse runs on its own goroutine and
	// is abandoned when the deadline passes; the size cap bounds what it can still cost.
	// It gets a copy of the content because the caller may reuse the buffer once we return.
	done := make(chan Result, 1)
	go func(content []byte) {
		done <- recoverPanic(func() Result { return check(ctx, content) })
	}(bytes.Clone(content))
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		select {
		case r := <-done: // finished at the same moment: the answer is still good
			return r
		default:
		}
		return unfinished(ctx)
	}
}

func unfinished(ctx context.Context) Result {
	return Result{Summary: "OpenAPI validation did not finish: " + ctx.Err().Error()}
}

// recoverPanic runs f, turning a panic into a failed check: a parser bug on one document
// must not take down the service, and it runs on a goroutine no caller could recover on.
func recoverPanic(f func() Result) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			r = fail(fmt.Sprintf("parser failed: %v", p))
		}
	}()
	return f()
}

func check(ctx context.Context, content []byte) Result {
	doc, found := extract(content)
	if !found.openapi && found.swagger {
		return fail("this is a Swagger 2.0 document; OpenAPI 3.x is required")
	}

	loader := openapi3.NewLoader()
	loader.Context = ctx
	// An external $ref in a model's document could name "/etc/passwd" or a cloud metadata
	// URL, so none is followed. The flag says so; the reader makes it hold on every path by
	// which kin-openapi reads a URI, not only those that check the flag. (With a reader
	// installed the loader leaves the policy to it, so it returns the error the flag would.)
	loader.IsExternalRefsAllowed = false
	loader.ReadFromURIFunc = refuseURI
	spec, err := loader.LoadFromData(doc)
	if err != nil {
		return fail(errorLines(err)...)
	}
	if spec.OpenAPIMajorMinor() == "" && spec.OpenAPI != "" {
		// kin-openapi validates a document with an unknown version (even "4.0.0") under the
		// 3.0 rules without complaint.
		return fail(fmt.Sprintf("openapi version %q is not supported: OpenAPI 3.0, 3.1 or 3.2 is required", spec.OpenAPI))
	}
	// Multi-error mode reports every problem at once, so the model can fix them in one round.
	if err := spec.Validate(ctx, openapi3.EnableMultiError()); err != nil {
		return fail(errorLines(err)...)
	}
	return Result{Pass: true, Summary: passSummary(spec)}
}

func refuseURI(_ *openapi3.Loader, location *url.URL) ([]byte, error) {
	return nil, &openapi3.DisallowedExternalRefError{Ref: location.String()}
}

// fail reports a document found wanting, one problem a line.
func fail(problems ...string) Result {
	return Result{Summary: failPrefix + truncate(problems, maxErrorLen)}
}

// errorLines splits the parser's error into problems. In multi-error mode Validate returns a
// flat MultiError, one entry per problem; any other error, the loader's included, is one.
func errorLines(err error) []string {
	multi, ok := err.(openapi3.MultiError)
	if !ok {
		return []string{err.Error()}
	}
	lines := make([]string, 0, len(multi))
	for _, e := range multi {
		lines = append(lines, e.Error())
	}
	return lines
}
