package offline

import (
	"fmt"
	"math"
	"strings"
)

// design is the G4 "Design System".
func (p *project) design(title string) string {
	var m md
	p.start(&m, title)
	m.h2("1. Principles")
	m.bullets(
		fmt.Sprintf("**Task first.** Every screen serves a user story; the main action of each is obvious to %s.", list(pluralAll(p.personas()))),
		"**Calm and legible.** Generous spacing, one accent colour for actions, text that passes WCAG 2.2 AA contrast.",
		"**Honest states.** Loading, empty and error states are designed, not left to chance; errors say what to do next.",
		"**Keyboard and screen reader ready.** Everything works without a mouse, in a logical focus order.")
	m.h2("2. Colour")
	m.para("The palette is derived from the project's name, so it is stable across revisions. Contrast ratios are computed against the colour each token is used with.")
	m.table([]string{"Token", "Value", "Use", "Contrast"}, p.palette())
	m.h2("3. Typography")
	m.table([]string{"Token", "Size / line height", "Weight", "Use"}, [][]string{
		{"`font.display`", "32 / 40 px", "700", "Page titles"},
		{"`font.heading`", "24 / 32 px", "600", "Section headings"},
		{"`font.title`", "18 / 28 px", "600", "Card and dialog titles"},
		{"`font.body`", "16 / 24 px", "400", "Body text, inputs"},
		{"`font.small`", "14 / 20 px", "400", "Help text, table cells"},
	})
	m.para("Font stack: `Inter, system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif`; numbers use tabular figures in tables.")
	m.h2("4. Spacing, shape and motion")
	m.bullets("**Spacing:** a 4 px scale: `space.1` 4, `space.2` 8, `space.3` 12, `space.4` 16, `space.6` 24, `space.8` 32, `space.12` 48.",
		"**Radius:** `radius.sm` 4 px (inputs), `radius.md` 8 px (cards, buttons), `radius.full` (avatars, tags).",
		"**Elevation:** `shadow.1` for cards, `shadow.2` for menus and dialogs; never more than two levels on screen.",
		"**Motion:** 150 ms ease-out for state changes; none when the user prefers reduced motion.")
	m.h2("5. Components")
	m.table([]string{"Component", "Variants", "States"}, [][]string{
		{"Button", "primary, secondary, danger, link", "default, hover, focus (2 px ring), disabled, loading"},
		{"Text field, text area, select", "with label, help text and error text", "default, focus, invalid, disabled"},
		{"List and table", "with sorting and pagination (cursor, \"Load more\")", "loading skeleton, empty, error with retry"},
		{"Card", "item summary with status tag", "default, hover, selected"},
		{"Dialog", "confirm (delete), form", "open with focus trap; Escape closes"},
		{"Toast", "success, error", "auto-dismiss after 5 s; errors stay until dismissed"},
		{"Navigation", "sidebar on desktop, bottom bar on mobile", "current page marked with aria-current"},
	})
	m.h2("6. Screens")
	m.table([]string{"Screen", "Content", "Primary action", "States"}, p.screens())
	m.h2("7. Stories to screens")
	var rows [][]string
	for i, f := range p.features {
		screen := "Home"
		if r, ok := p.resourceOf(i); ok {
			screen = screenFor(f, r)
		}
		rows = append(rows, []string{fmt.Sprintf("US-%d", i+1), cell(f.title()), screen})
	}
	m.table([]string{"Story", "Capability", "Screen"}, rows)
	m.h2("8. Navigation and flows")
	var nav []string
	for _, r := range p.resources {
		nav = append(nav, upperFirst(r.labelPlural()))
	}
	m.para("Navigation: %s, and the account menu (profile, sign out). After sign-in the user lands on %s.",
		strings.Join(nav, ", "), upperFirst(p.resources[0].labelPlural()))
	for i, f := range p.features[:min(len(p.features), 3)] {
		r, ok := p.resourceOf(i)
		if !ok || !f.phrase {
			continue
		}
		m.para("**Flow for US-%d (%s):**", i+1, cell(f.title()))
		m.numbered("Open "+upperFirst(r.labelPlural())+" from the navigation.",
			"Choose the primary action; the form opens with the first field focused.",
			"Submit; the button shows progress, then a success toast, and the list shows the change.",
			"On an error, the form keeps the input and shows the message next to the field.")
	}
	m.h2("9. Accessibility and responsiveness")
	m.bullets("WCAG 2.2 AA: text contrast ≥ 4.5:1, focus always visible, targets at least 24 × 24 px, labels on every input, errors announced with aria-live.",
		"Breakpoints: `sm` 0-639 px (single column, bottom navigation), `md` 640-1023 px, `lg` ≥ 1024 px (sidebar and content).",
		"Reduced motion and forced colours are respected; nothing relies on colour alone.")
	return m.String()
}

func pluralAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = plural(w)
	}
	return out
}

// screenFor names the screen of a feature: the list for reading, the form for creating, the
// detail for changing one item.
func screenFor(f feature, r resource) string {
	switch strings.Fields(endpointFor(f, r))[0] {
	case "GET":
		return upperFirst(r.labelPlural()) + " list"
	case "POST":
		return "New " + r.label() + " form"
	}
	return upperFirst(r.label()) + " detail"
}

func (p *project) screens() [][]string {
	rows := [][]string{{"Sign in / sign up", "Email, password, link to reset", "Sign in", "invalid credentials, locked account"}}
	for _, r := range p.resources {
		l, pl := r.label(), r.labelPlural()
		rows = append(rows,
			[]string{upperFirst(pl) + " list", "Cards with name, status and last update; search and filter by status", "New " + l,
				"skeleton while loading; empty: \"No " + pl + " yet\" with the create button; error with retry"},
			[]string{"New " + l + " form", "Name (required), description, status", "Save", "field errors inline; saving disables the button"},
			[]string{upperFirst(l) + " detail", "All fields, history of changes, owner", "Edit", "not found; confirm dialog before delete"})
	}
	if p.ai() {
		rows = append(rows, []string{"Assistant panel", "Input, the model's answer with its confidence and model version", "Ask",
			"thinking indicator; fallback answer marked as such; error with retry"})
	}
	return rows
}

// palette is the colour tokens: accents derived from the name's hash, darkened until white text
// on them reaches 4.5:1, and fixed neutrals.
func (p *project) palette() [][]string {
	primary, accent := p.accents()
	type token struct {
		name, use string
		color     [3]float64
		on        [3]float64
	}
	text := hexColor("#1F2937")
	tokens := []token{
		{"color.primary", "Primary buttons, links, focus ring; white text on it", primary, white},
		{"color.accent", "Highlights, selected states; white text on it", accent, white},
		{"color.text", "Body text on the background", text, white},
		{"color.text-muted", "Secondary text on the background", hexColor("#4B5563"), white},
		{"color.surface", "Cards and panels, under body text", hexColor("#F9FAFB"), text},
		{"color.border", "Decorative borders and dividers, never the only cue for a control", hexColor("#D1D5DB"), white},
		{"color.danger", "Errors and destructive actions; white text on it", hexColor("#B91C1C"), white},
		{"color.success", "Confirmations; white text on it", hexColor("#15803D"), white},
	}
	var rows [][]string
	for _, t := range tokens {
		rows = append(rows, []string{"`" + t.name + "`", "`" + hexString(t.color) + "`", t.use,
			fmt.Sprintf("%.1f:1", contrast(t.color, t.on))})
	}
	return rows
}

var white = [3]float64{1, 1, 1}

// accents are the primary and accent colours of the project.
func (p *project) accents() (primary, accent [3]float64) {
	hue := float64(fnv32(p.name) % 360)
	return accessible(hue, white), accessible(math.Mod(hue+150, 360), white)
}

// accessible is the lightest colour of the hue (saturation 65%) with a contrast of at least
// 4.5:1 against on.
func accessible(hue float64, on [3]float64) [3]float64 {
	for l := 0.50; l > 0.05; l -= 0.02 {
		if c := hsl(hue, 0.65, l); contrast(c, on) >= 4.5 {
			return c
		}
	}
	return hsl(hue, 0.65, 0.05)
}

func hsl(h, s, l float64) [3]float64 {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	// Quantise to 8 bits now, so the contrast is computed on the colour as written.
	q := func(v float64) float64 { return math.Round((v+m)*255) / 255 }
	return [3]float64{q(r), q(g), q(b)}
}

func hexColor(s string) [3]float64 {
	var r, g, b int
	fmt.Sscanf(s, "#%02X%02X%02X", &r, &g, &b)
	return [3]float64{float64(r) / 255, float64(g) / 255, float64(b) / 255}
}

func hexString(c [3]float64) string {
	return fmt.Sprintf("#%02X%02X%02X", int(math.Round(c[0]*255)), int(math.Round(c[1]*255)), int(math.Round(c[2]*255)))
}

// contrast is the WCAG contrast ratio of two sRGB colours.
func contrast(a, b [3]float64) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c [3]float64) float64 {
	lin := func(v float64) float64 {
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c[0]) + 0.7152*lin(c[1]) + 0.0722*lin(c[2])
}
