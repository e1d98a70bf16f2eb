package pricing

import (
	"math"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		model  string
		want   Price
		priced bool
	}{
		// Exact families.
		{"claude-opus-4", usd(1500, 7500), true},
		{"claude-opus-4-5", usd(500, 2500), true},
		{"claude-sonnet-4", usd(300, 1500), true},
		{"claude-haiku-4-5", usd(100, 500), true},
		{"gpt-4o", usd(250, 1000), true},
		{"offline", Price{}, true},

		// Dated ids fall back to their family, the longest one winning.
		{"claude-sonnet-4-5-20250929", usd(300, 1500), true},
		{"claude-sonnet-4-20250514", usd(300, 1500), true},
		{"claude-opus-4-1-20250805", usd(1500, 7500), true},
		{"claude-opus-4-5-20251101", usd(500, 2500), true},
		{"claude-3-5-haiku-20241022", usd(80, 400), true},
		{"claude-3-5-sonnet-latest", usd(300, 1500), true},
		{"claude-3-opus-20240229", usd(1500, 7500), true},
		{"gpt-4o-mini-2024-07-18", usd(15, 60), true},
		{"gpt-4o-2024-08-06", usd(250, 1000), true},
		{"gpt-4o-2024-05-13", usd(500, 1500), true},
		{"gpt-4.1-2025-04-14", usd(200, 800), true},
		{"gpt-4.1-mini-2025-04-14", usd(40, 160), true},
		{"gpt-4.1-nano", usd(10, 40), true},
		{"gpt-4-turbo-2024-04-09", usd(1000, 3000), true},
		{"gpt-3.5-turbo-0125", usd(50, 150), true},
		{"o1-2024-12-17", usd(1500, 6000), true},
		{"o1-preview", usd(1500, 6000), true},
		{"o1-mini-2024-09-12", usd(110, 440), true},
		{"o3-2025-04-16", usd(200, 800), true},
		{"o3-mini-2025-01-31", usd(110, 440), true},
		{"o4-mini-2025-04-16", usd(110, 440), true},

		// Every boundary character ends a family.
		{"o1:latest", usd(1500, 6000), true},
		{"o1.5", usd(1500, 6000), true},
		{"o1@2024", usd(1500, 6000), true},
		{"claude-sonnet-4@20250514", usd(300, 1500), true},

		// A family must end at a boundary.
		{"o1xyz", Price{}, false},
		{"o3x-mini", Price{}, false},
		{"gpt-4", Price{}, false}, // shorter than every gpt-4 family
		{"gpt-4ox", Price{}, false},
		{"offline2", Price{}, false},

		// Case and space do not matter.
		{"Claude-Sonnet-4-5", usd(300, 1500), true},
		{"  GPT-4o-Mini  ", usd(15, 60), true},

		// Vendor and router prefixes are stripped.
		{"openai/gpt-4o-mini", usd(15, 60), true},
		{"anthropic/claude-sonnet-4-5", usd(300, 1500), true},
		{"openrouter/anthropic/claude-3-opus", usd(1500, 7500), true},
		{"OpenAI/O3", usd(200, 800), true},

		// Unknown models.
		{"llama3.1:8b", Price{}, false},
		{"ollama/llama3.1:8b", Price{}, false},
		{"", Price{}, false},
		{"/", Price{}, false},
		{"-", Price{}, false},
		{"openai/", Price{}, false},
	}
	table := Default()
	for _, tt := range tests {
		got, ok := table.Lookup(tt.model)
		if got != tt.want || ok != tt.priced {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tt.model, got, ok, tt.want, tt.priced)
		}
	}
}

func TestCost(t *testing.T) {
	tests := []struct {
		name          string
		model         string
		input, output int64
		want          int64
		priced        bool
	}{
		{"zero tokens", "gpt-4o", 0, 0, 0, true},
		{"one million each", "claude-sonnet-4-5", 1_000_000, 1_000_000, 18_000_000, true},
		{"typical call", "claude-sonnet-4-5-20250929", 1234, 567, 12_207, true}, // 3702 + 8505
		{"cheap model", "gpt-4o-mini-2024-07-18", 1000, 500, 450, true},         // 150 + 300
		{"exact fraction", "gpt-4o-mini", 0, 5, 3, true},                        // 3.0
		{"below half rounds down", "gpt-4o-mini", 3, 0, 0, true},                // 0.45
		{"just below half rounds down", "just-under-half", 1, 0, 0, true},       // 0.499999
		{"half rounds up", "gpt-3.5-turbo", 1, 0, 1, true},                      // 0.5
		{"above half rounds up", "claude-3-5-haiku", 1, 0, 1, true},             // 0.8
		{"rounded once, not per part", "half", 1, 1, 1, true},                   // 0.5 + 0.5, not 1 + 1
		{"offline is free but priced", "offline", 1_000_000, 1_000_000, 0, true},
		{"unknown model", "llama3.1:8b", 1_000_000, 1_000_000, 0, false},
		{"negative tokens count as zero", "gpt-4o", -5, 1_000_000, 10_000_000, true},
		{"saturates instead of wrapping", "claude-opus-4", math.MaxInt64, math.MaxInt64, math.MaxInt64, true},
		{"saturates on input alone", "claude-opus-4", math.MaxInt64, 0, math.MaxInt64, true},
		{"large exact result", "unit", math.MaxInt64, math.MaxInt64, 18_446_744_073_710, true}, // 2*MaxInt64/1e6
	}
	table := Default().With(map[string]Price{
		"half":            {InputPerMillionMicros: 500_000, OutputPerMillionMicros: 500_000},
		"just-under-half": {InputPerMillionMicros: 499_999},
		"unit":            {InputPerMillionMicros: 1, OutputPerMillionMicros: 1},
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := table.Cost(tt.model, tt.input, tt.output)
			if got != tt.want || ok != tt.priced {
				t.Errorf("Cost(%q, %d, %d) = %d, %v; want %d, %v", tt.model, tt.input, tt.output, got, ok, tt.want, tt.priced)
			}
		})
	}
}

// TestCostSaturationBoundary checks the results on either side of math.MaxInt64.
func TestCostSaturationBoundary(t *testing.T) {
	// price 1e6 micros per million = 1 micro per token, so the cost equals the token count.
	p := Price{InputPerMillionMicros: perMillion, OutputPerMillionMicros: perMillion}
	if got := cost(p, math.MaxInt64, 0); got != math.MaxInt64 {
		t.Errorf("cost at MaxInt64 = %d", got)
	}
	if got := cost(p, math.MaxInt64-1, 1); got != math.MaxInt64 {
		t.Errorf("cost summing to MaxInt64 = %d", got)
	}
	if got := cost(p, math.MaxInt64, 1); got != math.MaxInt64 {
		t.Errorf("cost past MaxInt64 = %d, want saturation", got)
	}
	if got := cost(p, math.MaxInt64-10, 0); got != math.MaxInt64-10 {
		t.Errorf("cost below MaxInt64 = %d", got)
	}
	neg := Price{InputPerMillionMicros: -perMillion, OutputPerMillionMicros: -1}
	if got := cost(neg, 100, 100); got != 0 {
		t.Errorf("negative prices cost %d, want 0", got)
	}
}

func TestWith(t *testing.T) {
	base := Default()
	table := base.With(map[string]Price{
		"llama3":   {},
		"GPT-4o":   usd(100, 200), // replaces the default, case-insensitively
		"my-org/x": usd(1, 2),
		"  ":       usd(9, 9), // ignored
	})

	if p, ok := table.Lookup("llama3.1:8b"); !ok || p != (Price{}) {
		t.Errorf("override llama3: Lookup(llama3.1:8b) = %+v, %v", p, ok)
	}
	if p, _ := table.Lookup("gpt-4o-2024-08-06"); p != usd(100, 200) {
		t.Errorf("override gpt-4o: got %+v", p)
	}
	if p, _ := table.Lookup("gpt-4o-mini"); p != usd(15, 60) {
		t.Errorf("gpt-4o-mini must keep its default, got %+v", p)
	}
	if p, ok := table.Lookup("my-org/x-large"); !ok || p != usd(1, 2) {
		t.Errorf("family with a slash: got %+v, %v", p, ok)
	}
	if _, ok := table.Lookup(""); ok {
		t.Error("blank family must be ignored")
	}

	// The base table is unchanged.
	if _, ok := base.Lookup("llama3.1:8b"); ok {
		t.Error("With modified the default table")
	}
	if p, _ := base.Lookup("gpt-4o"); p != usd(250, 1000) {
		t.Errorf("With modified the default table: gpt-4o = %+v", p)
	}
}

func TestNilTable(t *testing.T) {
	var table *Table
	if _, ok := table.Lookup("gpt-4o"); ok {
		t.Error("nil table priced a model")
	}
	if c, ok := table.Cost("gpt-4o", 10, 10); c != 0 || ok {
		t.Errorf("nil table Cost = %d, %v", c, ok)
	}
	if _, ok := table.With(map[string]Price{"x": {}}).Lookup("x"); !ok {
		t.Error("With on a nil table lost the override")
	}
}

func BenchmarkCost(b *testing.B) {
	table := Default()
	models := []string{"claude-sonnet-4-5-20250929", "gpt-4o-mini-2024-07-18", "openai/o3-mini", "llama3.1:8b"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		table.Cost(models[i%len(models)], 12_345, 6_789)
	}
}
