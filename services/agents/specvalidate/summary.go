package specvalidate

import (
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// maxErrorLen bounds the parser's part of a failure summary: enough for a model to fix a
// document, short enough to store with every run and put back into a prompt.
const maxErrorLen = 2000

// maxNameLen bounds the title and version quoted in a pass summary; nothing stops a model
// from writing a very long title.
const maxNameLen = 200

// passSummary describes a valid document, with counts a reviewer can sanity-check against
// what was asked for.
func passSummary(doc *openapi3.T) string {
	var title, version string
	if doc.Info != nil {
		title, version = shorten(doc.Info.Title, maxNameLen), shorten(doc.Info.Version, maxNameLen)
	}
	paths, operations := 0, 0
	if doc.Paths != nil {
		for _, item := range doc.Paths.Map() {
			paths++
			if item != nil {
				operations += len(item.Operations())
			}
		}
	}
	schemas := 0
	if doc.Components != nil {
		schemas = len(doc.Components.Schemas)
	}
	counts := []string{plural(paths, "path"), plural(operations, "operation"), plural(schemas, "schema")}
	if n := len(doc.Webhooks); n > 0 {
		counts = append(counts, plural(n, "webhook"))
	}
	return fmt.Sprintf("OpenAPI %s document %q %s is valid: %s (%s)",
		doc.OpenAPI, title, version, strings.Join(counts, ", "), parserName())
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

const kinOpenAPIModule = "github.com/getkin/kin-openapi"

// kinOpenAPIVersion is the version go.mod requires, for binaries without module information
// (test binaries, for one). TestKinOpenAPIVersion keeps it in step with go.mod.
const kinOpenAPIVersion = "v0.153.0"

// parserName names the parser and its version, so a stored result says which rules it was
// judged by. The build information is read once: it does not change while the binary runs.
var parserName = sync.OnceValue(func() string {
	version := kinOpenAPIVersion
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == kinOpenAPIModule {
				version = dep.Version
				if dep.Replace != nil && dep.Replace.Version != "" {
					version = dep.Replace.Version
				}
				break
			}
		}
	}
	return "kin-openapi " + version
})

// shorten cuts s to at most n bytes at a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// oneLine makes one problem's message a single line of valid UTF-8. kin-openapi follows a
// schema error with a dump of the schema and the value, which repeats what the model wrote
// and would spend the whole length budget on one problem, so that part is left out. The YAML
// parser may quote input cut in the middle of a character, and the summary is stored as text.
func oneLine(msg string) string {
	if before, _, found := strings.Cut(msg, "\nSchema:\n"); found {
		msg = before
	}
	return strings.Join(strings.Fields(strings.ToValidUTF8(msg, "\uFFFD")), " ")
}

// truncate joins lines with newlines within limit bytes. When they do not all fit, whole lines
// are kept while they do and a note says how many were left out; a first line that alone is
// too long is cut at a rune boundary.
func truncate(lines []string, limit int) string {
	for i := range lines {
		lines[i] = oneLine(lines[i])
	}
	if joined := strings.Join(lines, "\n"); len(joined) <= limit {
		return joined
	}
	const noteRoom = len("\n… and 999999 more")
	budget := limit - noteRoom
	var b strings.Builder
	kept := 0
	for _, line := range lines {
		if kept > 0 {
			if b.Len()+1+len(line) > budget {
				break
			}
			b.WriteByte('\n')
		} else if len(line) > budget {
			break
		}
		b.WriteString(line)
		kept++
	}
	if kept == 0 {
		b.WriteString(shorten(lines[0], budget))
		kept = 1
	}
	if rest := len(lines) - kept; rest > 0 {
		fmt.Fprintf(&b, "\n… and %d more", rest)
	}
	return b.String()
}
