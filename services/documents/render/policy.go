package render

import (
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// policy is the second layer: an allowlist of exactly the elements and
// attributes goldmark emits for CommonMark + GFM. Anything else, however it
// got into goldmark's output, is removed.
var policy = newPolicy()

var (
	// Fenced code blocks: goldmark copies the info string's first word into
	// class="language-…"; anything beyond these characters could be used to
	// hijack the page's own CSS classes, so the class is dropped instead.
	codeClass = regexp.MustCompile(`^language-[a-zA-Z0-9_+-]+$`)
	// Only ids made by prefixIDs; see headingIDPrefix.
	headingID  = regexp.MustCompile(`^` + headingIDPrefix + `[a-zA-Z0-9_-]+$`)
	cellAlign  = regexp.MustCompile(`^(left|center|right)$`)
	checkbox   = regexp.MustCompile(`^checkbox$`)
	emptyValue = regexp.MustCompile(`^$`)
)

// newPolicy builds the allowlist from bluemonday.NewPolicy rather than
// bluemonday.UGCPolicy: UGCPolicy allows "id" on every element (its pattern is
// not even anchored) and a policy can only be widened, never narrowed, so
// starting from it would let ids clobber DOM globals. It also allows many
// elements goldmark never produces. URLs are checked as UGCPolicy checks them.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()

	// URLs (a.href, img.src) must parse and be relative or http, https or
	// mailto: no javascript:, vbscript:, data: or anything else.
	p.AllowStandardURLs() // also adds rel="nofollow" to every link
	// Links leaving the site open in a new tab, which bluemonday pairs with
	// rel="noopener" so the target cannot script window.opener, and do not
	// tell the target which document linked to it.
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.RequireNoReferrerOnFullyQualifiedLinks(true)

	// Blocks and inline formatting that carry no attributes.
	p.AllowElements("p", "blockquote", "hr", "br", "pre", "em", "strong", "del", "ul", "li")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")

	p.AllowElements("h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("id").Matching(headingID).OnElements("h1", "h2", "h3", "h4", "h5", "h6")

	p.AllowElements("code")
	p.AllowAttrs("class").Matching(codeClass).OnElements("code")

	// Titles and alt text may hold any text: they are attribute values, which
	// the sanitizer re-escapes, and never URLs.
	p.AllowAttrs("href", "title").OnElements("a")
	p.AllowAttrs("src", "alt", "title").OnElements("img")

	p.AllowElements("table", "thead", "tbody", "tr")
	p.AllowAttrs("align").Matching(cellAlign).OnElements("th", "td")

	// GFM task lists: <input checked="" disabled="" type="checkbox">. Nothing
	// else is allowed on input: no handlers, name, form, value or other type.
	// An input left with no attribute is removed; one left with only
	// checked/disabled (goldmark never writes that) is an inert text box.
	p.AllowAttrs("type").Matching(checkbox).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(emptyValue).OnElements("input")

	return p
}
