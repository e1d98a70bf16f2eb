package render

import (
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// goldmark (v1.8.7) takes time or memory far out of proportion to the input
// for a few shapes of input that no person writes but an attacker can. With
// 512 KiB of input, measured on the machine this package was written on:
//
//   - ">>>>…" or "- - - …" on one line (nested blockquotes or lists): minutes,
//     because each nested block re-measures the line from its start;
//   - "*_a*_a…" (emphasis delimiters that cannot match): minutes, because
//     every closer walks back over every opener;
//   - "[a]([a](…" without spaces: over a minute, because every "](" scans the
//     rest of the line for the end of the link destination;
//   - a table with a 1000-column header followed by many one-character rows:
//     gigabytes, because every row is padded to the header's width.
//
// The wrappers below cap each of these where goldmark's parsers are plugged
// in. The caps are far above what a real document needs, and what lies beyond
// a cap is still rendered, as plain text. BenchmarkMarkdown has a case for
// each shape.
const (
	// maxNesting is how deep blockquotes and lists may nest; a deeper ">"
	// or list marker is text.
	maxNesting = 32
	// maxDelimitersPerBlock is how many emphasis and strikethrough
	// delimiters ("*", "_", "~") one paragraph, heading or table cell may
	// open; later ones are text.
	maxDelimitersPerBlock = 500
	// maxLinksPerBlock is how many link or image openers ("[", "![") one
	// paragraph, heading or table cell may have; later ones are text.
	maxLinksPerBlock = 500
	// tableCellsPerByte bounds a table's cell count by the size of its
	// source. A real table spends at least a "|" on nearly every cell; only
	// a table whose rows leave out most cells comes near the bound.
	tableCellsPerByte = 2
)

// nestingLimited wraps the blockquote and list parsers so that they open no
// block deeper than maxNesting.
type nestingLimited struct {
	parser.BlockParser
}

func (p nestingLimited) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	if nestingDepth(parent) >= maxNesting {
		return nil, parser.NoChildren
	}
	return p.BlockParser.Open(parent, reader, pc)
}

// nestingDepth counts the blockquotes and lists n is inside (n included).
// The walk is short because nestingLimited keeps the tree shallow.
func nestingDepth(n ast.Node) int {
	depth := 0
	for ; n != nil; n = n.Parent() {
		if k := n.Kind(); k == ast.KindBlockquote || k == ast.KindList {
			depth++
		}
	}
	return depth
}

// perBlockLimited wraps an inline parser so that it produces at most max
// opening nodes in one block (a paragraph, heading or table cell). The count
// lives in the parse context under key and is reset when the block's inline
// parsing ends. Parsers that share a key share the count.
type perBlockLimited struct {
	parser.InlineParser
	key parser.ContextKey
	max int
	// opens reports whether the parser is at a node that counts; nil means
	// every node counts.
	opens func(line []byte) bool
}

func (p perBlockLimited) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, _ := block.PeekLine()
	if p.opens != nil && !p.opens(line) {
		return p.InlineParser.Parse(parent, block, pc)
	}
	count, _ := pc.Get(p.key).(*int)
	if count == nil {
		count = new(int)
		pc.Set(p.key, count)
	}
	if *count >= p.max {
		return nil // goldmark keeps the character as text
	}
	node := p.InlineParser.Parse(parent, block, pc)
	if node != nil {
		*count++
	}
	return node
}

func (p perBlockLimited) CloseBlock(parent ast.Node, block text.Reader, pc parser.Context) {
	pc.Set(p.key, nil)
	if inner, ok := p.InlineParser.(parser.CloseBlocker); ok {
		inner.CloseBlock(parent, block, pc)
	}
}

// opensLink reports whether the link parser is at "[" or "![" (rather than at
// a closing "]").
func opensLink(line []byte) bool {
	return len(line) > 0 && (line[0] == '[' || (line[0] == '!' && len(line) > 1 && line[1] == '['))
}

// tableBudgeted wraps the GFM table paragraph transformer: a paragraph whose
// table could have more than tableCellsPerByte cells per byte of its source
// stays a paragraph. The bound (lines times the most cells any line could
// have) is computed without parsing the table.
type tableBudgeted struct {
	parser.ParagraphTransformer
}

func (t tableBudgeted) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	source := reader.Source()
	size, widest := 0, 0
	for i := range lines.Len() {
		segment := lines.At(i)
		line := segment.Value(source)
		size += len(line)
		widest = max(widest, bytes.Count(line, []byte("|"))+1)
	}
	if lines.Len()*widest > tableCellsPerByte*size {
		return
	}
	t.ParagraphTransformer.Transform(node, reader, pc)
}
