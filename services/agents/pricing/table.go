// Package pricing turns the token usage a model reports into a cost. Money is integer
// micro-dollars (1 USD = 1_000_000) so that sums over many runs never drift the way floats do.
//
// Prices are keyed by model family prefix rather than by exact model id, because vendors
// publish dated snapshots ("claude-sonnet-4-5-20250929", "gpt-4o-mini-2024-07-18") faster
// than a table can list them; the longest matching family wins, so "gpt-4o-mini-…" is priced
// as gpt-4o-mini and not as gpt-4o.
package pricing

import (
	"math"
	"math/bits"
	"strings"
)

// Price is the list price of a model family in micro-dollars per million tokens.
type Price struct {
	InputPerMillionMicros  int64
	OutputPerMillionMicros int64
}

// Table maps model family prefixes to prices. A Table is immutable once built, so one value
// may be shared by any number of goroutines; With returns a modified copy.
type Table struct {
	prices map[string]Price // keys are normalized by normalizeFamily
}

func newTable(prices map[string]Price) *Table {
	t := &Table{prices: make(map[string]Price, len(prices))}
	for family, p := range prices {
		if key := normalizeFamily(family); key != "" {
			t.prices[key] = p
		}
	}
	return t
}

// With returns a new table holding t's prices with overrides applied on top; a family in
// overrides replaces the same family in t. Family names are matched case-insensitively and
// blank names are ignored. t itself is unchanged.
func (t *Table) With(overrides map[string]Price) *Table {
	merged := &Table{prices: make(map[string]Price, t.len()+len(overrides))}
	if t != nil {
		for family, p := range t.prices {
			merged.prices[family] = p
		}
	}
	// Normalized here, after the copy, so that "GPT-4o" replaces "gpt-4o" whatever the map
	// iteration order. Two overrides differing only in case are a caller's mistake; one wins.
	for family, p := range overrides {
		if key := normalizeFamily(family); key != "" {
			merged.prices[key] = p
		}
	}
	return merged
}

func (t *Table) len() int {
	if t == nil {
		return 0
	}
	return len(t.prices)
}

// Lookup returns the price of model: the price of the longest family that is a prefix of the
// model id ending at a boundary (end of the id or one of - : . @ /). Matching ignores case and
// surrounding space. A vendor or router prefix such as "openai/" or "openrouter/anthropic/"
// is tried with and without, the longer form first, so a family configured with its vendor
// prefix still wins over the bare one.
func (t *Table) Lookup(model string) (Price, bool) {
	if t.len() == 0 {
		return Price{}, false
	}
	// ToLower returns its argument unchanged, without allocating, for an id that is already
	// lower case, which is the usual case; Lookup sits on the path of every model call.
	name := strings.ToLower(strings.TrimSpace(model))
	for name != "" {
		if p, ok := t.longestPrefix(name); ok {
			return p, true
		}
		_, rest, found := strings.Cut(name, "/")
		if !found {
			break
		}
		name = rest
	}
	return Price{}, false
}

// longestPrefix tries the candidates from longest to shortest, each a map lookup, so the cost
// depends on the id's length and not on the size of the table.
func (t *Table) longestPrefix(name string) (Price, bool) {
	for end := len(name); end > 0; end-- {
		if end < len(name) && !isBoundary(name[end]) {
			continue
		}
		if p, ok := t.prices[name[:end]]; ok {
			return p, true
		}
	}
	return Price{}, false
}

func isBoundary(c byte) bool {
	switch c {
	case '-', ':', '.', '@', '/':
		return true
	}
	return false
}

func normalizeFamily(family string) string {
	return strings.ToLower(strings.TrimSpace(family))
}

// Cost returns the cost in micro-dollars of a call to model that used the given numbers of
// input and output tokens. An unknown model costs 0 with priced false, so that a caller reports
// "not priced" (a local model, say) instead of a made-up number. Negative token counts and
// prices count as zero. The result is exact, rounded half up to the micro-dollar, and saturates
// at math.MaxInt64 instead of wrapping.
func (t *Table) Cost(model string, inputTokens, outputTokens int64) (micros int64, priced bool) {
	p, ok := t.Lookup(model)
	if !ok {
		return 0, false
	}
	return cost(p, inputTokens, outputTokens), true
}

// cost computes (in*inPrice + out*outPrice) / 1e6 in 128-bit arithmetic and rounds once, at
// the end, so that splitting a bill into input and output never loses a micro-dollar.
func cost(p Price, inputTokens, outputTokens int64) int64 {
	inHi, inLo := bits.Mul64(nonNegative(inputTokens), nonNegative(p.InputPerMillionMicros))
	outHi, outLo := bits.Mul64(nonNegative(outputTokens), nonNegative(p.OutputPerMillionMicros))
	// Each product is below 2^126, so neither sum can carry out of 128 bits.
	lo, carry := bits.Add64(inLo, outLo, 0)
	hi := inHi + outHi + carry
	lo, carry = bits.Add64(lo, perMillion/2, 0) // half up
	hi += carry
	if hi >= perMillion { // the quotient would not fit in 64 bits
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, perMillion)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

const perMillion = 1_000_000

func nonNegative(n int64) uint64 {
	if n < 0 {
		return 0
	}
	return uint64(n)
}
