package pricing

// usd converts a whole number of cents per million tokens to micro-dollars, so the table
// below reads like the vendors' price pages without float literals.
func usd(inCents, outCents int64) Price {
	return Price{InputPerMillionMicros: inCents * 10_000, OutputPerMillionMicros: outCents * 10_000}
}

// defaultPrices are list prices (USD per million tokens, standard tier, no batch or cache
// discounts) as published by Anthropic and OpenAI. Some entries exist only so that a sibling
// model is not priced as the shorter family it shares a prefix with: without "o1-mini",
// o1-mini would be billed as o1, and without "gpt-4o-2024-05-13" the first gpt-4o snapshot
// would be billed at the later, lower gpt-4o price.
var defaultPrices = map[string]Price{
	// Anthropic.
	"claude-opus-4":     usd(1500, 7500), // also claude-opus-4-1
	"claude-opus-4-5":   usd(500, 2500),
	"claude-sonnet-4":   usd(300, 1500),
	"claude-sonnet-4-5": usd(300, 1500),
	"claude-haiku-4-5":  usd(100, 500),
	"claude-3-7-sonnet": usd(300, 1500),
	"claude-3-5-sonnet": usd(300, 1500),
	"claude-3-5-haiku":  usd(80, 400),
	"claude-3-opus":     usd(1500, 7500),
	"claude-3-haiku":    usd(25, 125),

	// OpenAI.
	"gpt-4o":            usd(250, 1000),
	"gpt-4o-2024-05-13": usd(500, 1500),
	"gpt-4o-mini":       usd(15, 60),
	"gpt-4.1":           usd(200, 800),
	"gpt-4.1-mini":      usd(40, 160),
	"gpt-4.1-nano":      usd(10, 40),
	"gpt-4-turbo":       usd(1000, 3000),
	"gpt-3.5-turbo":     usd(50, 150),
	"o1":                usd(1500, 6000),
	"o1-mini":           usd(110, 440),
	"o1-pro":            usd(15000, 60000),
	"o3":                usd(200, 800),
	"o3-mini":           usd(110, 440),
	"o3-pro":            usd(2000, 8000),
	"o4-mini":           usd(110, 440),

	// The offline provider is deterministic and local: it is priced, at zero, so runs with it
	// report "$0.00" rather than "not priced".
	"offline": {},
}

var defaultTable = newTable(defaultPrices)

// Default returns the built-in price table. The table is shared and immutable; use With to
// derive one with configured overrides.
func Default() *Table {
	return defaultTable
}
