// Package render turns a document's stored content into HTML that is safe to
// insert into a browser page: Markdown through Markdown, source files through
// Code.
//
// Markdown output passes two independent layers, so that a script, an event
// handler or a javascript: URL needs a bug in both to reach a reader:
//
//  1. goldmark renders CommonMark + GFM without its "unsafe" option, so raw
//     HTML in the source is never emitted as HTML and links with dangerous
//     schemes lose their destination.
//  2. bluemonday then re-parses that HTML and keeps only the elements and
//     attributes goldmark is known to emit (see policy.go). This is defence in
//     depth against renderer bugs and against extensions added later.
//
// Both the goldmark converter and the bluemonday policy are built once, at
// package initialisation, and are safe for concurrent use.
package render

import (
	"bytes"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// headingIDPrefix is put in front of every heading id, as GitHub does, so that
// a heading such as "# location" or "# cookie" cannot become
// id="location" and clobber a DOM global (window.location, document.cookie)
// or an id used by the application around the document.
const headingIDPrefix = "user-content-"

var replacement = []byte("\uFFFD")

var converter = goldmark.New(
	goldmark.WithParser(newParser()),
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(
		// Cells are aligned with align="…" rather than goldmark's default
		// style="text-align:…": the sanitizer allows no style attribute (it
		// cannot check CSS), and align carries the same information.
		util.Prioritized(extension.NewTableHTMLRenderer(
			extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)), 500),
		util.Prioritized(extension.NewStrikethroughHTMLRenderer(), 500),
		util.Prioritized(extension.NewTaskCheckBoxHTMLRenderer(), 500),
	)),
	// No html.WithUnsafe(): raw HTML is replaced by a "raw HTML omitted"
	// comment, which the sanitizer then drops.
)

// newParser assembles CommonMark + GFM (what extension.GFM registers: tables,
// strikethrough, autolinks, task lists) by hand, at the priorities goldmark
// uses, so that the parsers limits.go caps can be wrapped.
func newParser() parser.Parser {
	blocks := parser.DefaultBlockParsers()
	for i, b := range blocks {
		if b.Value == parser.NewBlockquoteParser() || b.Value == parser.NewListParser() {
			blocks[i].Value = nestingLimited{b.Value.(parser.BlockParser)}
		}
	}

	delimiters := parser.NewContextKey() // shared: one delimiter list per block
	links := parser.NewContextKey()
	inlines := parser.DefaultInlineParsers()
	for i, v := range inlines {
		switch v.Value {
		case parser.NewEmphasisParser():
			inlines[i].Value = perBlockBudget{
				InlineParser: parser.NewEmphasisParser(), key: delimiters, budget: maxDelimitersPerBlock, opener: delimiterRun}
		case parser.NewLinkParser():
			inlines[i].Value = perBlockBudget{
				InlineParser: parser.NewLinkParser(), key: links, budget: maxLinksPerBlock, opener: linkOpener}
		}
	}
	inlines = append(inlines,
		util.Prioritized(perBlockBudget{
			InlineParser: extension.NewStrikethroughParser(), key: delimiters, budget: maxDelimitersPerBlock, opener: delimiterRun}, 500),
		util.Prioritized(extension.NewLinkifyParser(), 999),
		util.Prioritized(extension.NewTaskCheckBoxParser(), 0),
	)

	return parser.NewParser(
		parser.WithBlockParsers(blocks...),
		parser.WithInlineParsers(inlines...),
		parser.WithParagraphTransformers(
			util.Prioritized(referencesBudgeted{parser.LinkReferenceParagraphTransformer}, 100),
			util.Prioritized(tableBudgeted{extension.NewTableParagraphTransformer()}, 200),
		),
		parser.WithASTTransformers(
			util.Prioritized(extension.NewTableASTTransformer(), 0),
			util.Prioritized(prefixIDs{}, 1000),
		),
		parser.WithAutoHeadingID(),
	)
}

// Markdown renders CommonMark + GitHub Flavored Markdown (tables, strikethrough, autolinks, task lists) to HTML that is safe to insert into a page.
//
// Any bytes are accepted: invalid UTF-8 and NUL become U+FFFD before parsing
// (CommonMark asks for the NUL replacement; doing it here keeps it out of
// every code path), so the output is always valid UTF-8 without NUL.
func Markdown(src []byte) []byte {
	src = bytes.ToValidUTF8(src, replacement)
	src = bytes.ReplaceAll(src, []byte{0}, replacement)
	var out bytes.Buffer
	// Writing to a bytes.Buffer cannot fail and goldmark's own renderers
	// return no errors, so an error here would be a goldmark bug; whatever was
	// rendered up to it is still sanitized below, so ignoring it is safe.
	_ = converter.Convert(src, &out)
	return policy.SanitizeBytes(out.Bytes())
}

// prefixIDs puts headingIDPrefix in front of the id goldmark gave each
// heading, and in front of the fragment of each link into the document
// ("[Install](#install)"), so that such links still reach their heading.
//
// Prefixing after parsing (rather than generating ids through a custom
// parser.IDs) keeps goldmark's slug and de-duplication rules and covers every
// way a heading can get an id. The sanitizer drops any id without the prefix,
// in case this is ever bypassed.
type prefixIDs struct{}

func (prefixIDs) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			if id, ok := n.AttributeString("id"); ok {
				n.SetAttributeString("id", prefixed(id))
			}
		case *ast.Link:
			dest := n.Destination
			if len(dest) > 1 && dest[0] == '#' && !bytes.HasPrefix(dest[1:], []byte(headingIDPrefix)) {
				n.Destination = append([]byte("#"+headingIDPrefix), dest[1:]...)
			}
		}
		return ast.WalkContinue, nil
	})
}

func prefixed(id any) []byte {
	out := []byte(headingIDPrefix)
	switch v := id.(type) {
	case []byte:
		return append(out, v...)
	case string:
		return append(out, v...)
	}
	return out
}
