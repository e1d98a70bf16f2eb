package pricing

import (
	"maps"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec string
		want map[string]Price
	}{
		{"", map[string]Price{}},
		{"  ", map[string]Price{}},
		{"llama3=0/0", map[string]Price{"llama3": {}}},
		{"llama3=0/0,my-model=0.25/1.25", map[string]Price{
			"llama3":   {},
			"my-model": {InputPerMillionMicros: 250_000, OutputPerMillionMicros: 1_250_000},
		}},
		{" My-Model = 3 / 15 , ", map[string]Price{"my-model": usd(300, 1500)}},
		{"a=.5/0.000001", map[string]Price{"a": {InputPerMillionMicros: 500_000, OutputPerMillionMicros: 1}}},
		{"a=0.1/0.2", map[string]Price{"a": {InputPerMillionMicros: 100_000, OutputPerMillionMicros: 200_000}}},
		{"org/model=1/2", map[string]Price{"org/model": usd(100, 200)}},
		{"big=9223372036854.775807/0", map[string]Price{"big": {InputPerMillionMicros: 9223372036854775807}}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.spec, err)
			continue
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("Parse(%q) = %v, want %v", tt.spec, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		spec string
		want []string // substrings of the error
	}{
		{"llama3", []string{`entry 1 "llama3"`, "family=in/out"}},
		{"a=1/2,b=1", []string{`entry 2 "b=1"`, "in/out"}},
		{"=1/2", []string{"family is empty"}},
		{"a-=1/2", []string{`must not end with '-'`}},
		{"a=x/2", []string{"input price", `"x" is not a USD amount`}},
		{"a=1/", []string{"output price", `"" is not a USD amount`}},
		{"a=-1/2", []string{`"-1" is not a USD amount`}},
		{"a=1/2/3", []string{`"2/3" is not a USD amount`}},
		{"a=1./2", []string{"no digits after the point"}},
		{"a=1.1234567/2", []string{"more than 6 decimal places"}},
		{"a=1e3/2", []string{`"1e3" is not a USD amount`}},
		{"a=9223372036855/0", []string{"too large"}},
		{"a=9223372036854.775808/0", []string{"too large"}},
		{"a=1/2,A=3/4", []string{`entry 2`, `"a" is listed twice`}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.spec)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want an error", tt.spec, got)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%q) error %q does not mention %q", tt.spec, err, w)
			}
		}
	}
}

func TestParseWith(t *testing.T) {
	overrides, err := Parse("llama3=0/0,gpt-4o=1/2")
	if err != nil {
		t.Fatal(err)
	}
	table := Default().With(overrides)
	if c, ok := table.Cost("llama3.1:8b", 1000, 1000); c != 0 || !ok {
		t.Errorf("llama3.1:8b = %d, %v; want 0, priced", c, ok)
	}
	if c, _ := table.Cost("gpt-4o-2024-08-06", 1_000_000, 1_000_000); c != 3_000_000 {
		t.Errorf("gpt-4o override cost %d, want 3000000", c)
	}
}
