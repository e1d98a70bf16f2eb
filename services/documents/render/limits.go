package render

import (
	"bytes"
	"slices"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// goldmark (v1.8.7) takes time or memory far out of proportion to the input
// for a few shapes of input that no person writes but an attacker can. Times
// are for 512 KiB of input, measured with plain goldmark + GFM on one core of
// an AMD EPYC:
//
//   - "*_a*_a…" (emphasis delimiters that cannot match): 7.5 minutes,
//     because every closer walks back over every opener;
//   - ">>>>…" or "- - - …" on one line (nested blockquotes or lists): over
//     2 minutes, because each nested block re-measures the line from its start;
//   - "[a]([a](…" without spaces: 1.5 minutes, because every "](" scans the
//     rest of the line for the end of the link destination;
//   - a paragraph of link reference definitions ("[a]: b" lines): 5 seconds,
//     because every definition found copies the rest of the paragraph;
//   - a table with a 1000-column header followed by short rows: gigabytes
//     (64 KiB of input gave 328 MB of HTML), because every row is padded to
//     the header's width;
//   - "____…x____…" (one long emphasis run): elements nested deeper than
//     HTML parsers go (x/net/html refuses more than 512 levels).
//
// The wrappers below cap each of these where goldmark's parsers are plugged
// in. The caps are far above what a real document needs, and what lies beyond
// a cap is still rendered, as plain text. With them, none of these inputs
// takes more than about half a second; BenchmarkMarkdown has a case for each.
const (
	// maxNesting is how deep blockquotes and lists may nest; a deeper ">"
	// or list marker is text.
	maxNesting = 32
	// maxDelimitersPerBlock is how many emphasis and strikethrough
	// characters ("*", "_", "~") one paragraph, heading or table cell may
	// use; later ones are text. It also keeps inline nesting (at most half
	// of it) well inside the 512 levels HTML parsers build.
	maxDelimitersPerBlock = 500
	// maxLinksPerBlock is how many link or image openers ("[", "![") one
	// paragraph, heading or table cell may have; later ones are text.
	maxLinksPerBlock = 500
	// maxReferenceLines is how many lines at the start of a paragraph are
	// searched for link reference definitions ("[label]: url"); later ones
	// are text.
	maxReferenceLines = 1000
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

// perBlockBudget wraps an inline parser so that the openers it parses in one
// block (a paragraph, heading or table cell) cost at most budget. The amount
// used lives in the parse context under key and is reset when the block's
// inline parsing ends; parsers that share a key share the budget.
type perBlockBudget struct {
	parser.InlineParser
	key    parser.ContextKey
	budget int
	// opener measures what the parser is looking at: the bytes it would
	// take as one opener and what that costs. A zero width means it is not
	// at an opener (a closing "]", say), which is parsed without counting.
	opener func(line []byte) (width, cost int)
}

func (p perBlockBudget) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, segment := block.PeekLine()
	width, cost := p.opener(line)
	if width == 0 {
		return p.InlineParser.Parse(parent, block, pc)
	}
	used, _ := pc.Get(p.key).(*int)
	if used == nil {
		used = new(int)
		pc.Set(p.key, used)
	}
	if *used+cost > p.budget {
		if width == 1 {
			return nil // goldmark keeps the byte as text
		}
		// A longer opener becomes text at once: handing it back to goldmark
		// byte by byte would rescan the rest of the run for every byte.
		block.Advance(width)
		return ast.NewTextSegment(segment.WithStop(segment.Start + width))
	}
	node := p.InlineParser.Parse(parent, block, pc)
	if node != nil {
		*used += cost
	}
	return node
}

func (p perBlockBudget) CloseBlock(parent ast.Node, block text.Reader, pc parser.Context) {
	pc.Set(p.key, nil)
	if inner, ok := p.InlineParser.(parser.CloseBlocker); ok {
		inner.CloseBlock(parent, block, pc)
	}
}

// delimiterRun measures a run of one emphasis or strikethrough character.
// Every character counts: a single run of n characters can nest n/2 elements.
func delimiterRun(line []byte) (width, cost int) {
	if len(line) == 0 {
		return 0, 0
	}
	n := 1
	for n < len(line) && line[n] == line[0] {
		n++
	}
	return n, n
}

// linkOpener measures "[" or "![" (a closing "]" is not an opener).
func linkOpener(line []byte) (width, cost int) {
	switch {
	case len(line) > 0 && line[0] == '[':
		return 1, 1
	case len(line) > 1 && line[0] == '!' && line[1] == '[':
		return 2, 1
	}
	return 0, 0
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

// referencesBudgeted wraps goldmark's link reference definition transformer
// so that it searches only the first maxReferenceLines lines of a paragraph.
type referencesBudgeted struct {
	parser.ParagraphTransformer
}

func (t referencesBudgeted) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	if lines.Len() <= maxReferenceLines {
		t.ParagraphTransformer.Transform(node, reader, pc)
		return
	}
	// Cloned: the slice shares its array with lines, which the transformer
	// appends to.
	rest := slices.Clone(lines.Sliced(maxReferenceLines, lines.Len()))
	lines.SetSliced(0, maxReferenceLines)
	parent, next := node.Parent(), node.NextSibling()
	t.ParagraphTransformer.Transform(node, reader, pc)
	if node.Parent() == nil {
		// Every line searched was a definition, so the transformer removed
		// the paragraph; the rest of it is still text.
		if next != nil {
			parent.InsertBefore(parent, next, node)
		} else {
			parent.AppendChild(parent, node)
		}
	}
	node.Lines().AppendAll(rest)
}
