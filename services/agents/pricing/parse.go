package pricing

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Parse reads price overrides from configuration, in the form
// "family=in/out,family2=in/out" where in and out are USD per million tokens written as
// decimals with at most six places, e.g. "llama3=0/0,my-model=0.25/1.25". Space around items
// is ignored, as is an empty item (a trailing comma). An empty spec yields an empty map.
// Errors name the offending entry.
func Parse(spec string) (map[string]Price, error) {
	out := make(map[string]Price)
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		family, p, err := parseEntry(entry)
		if err != nil {
			return nil, fmt.Errorf("pricing: entry %d %q: %w", i+1, entry, err)
		}
		if _, dup := out[family]; dup {
			return nil, fmt.Errorf("pricing: entry %d %q: family %q is listed twice", i+1, entry, family)
		}
		out[family] = p
	}
	return out, nil
}

func parseEntry(entry string) (string, Price, error) {
	family, prices, ok := strings.Cut(entry, "=")
	if !ok {
		return "", Price{}, errors.New(`want family=in/out`)
	}
	family = normalizeFamily(family)
	if family == "" {
		return "", Price{}, errors.New("family is empty")
	}
	// A family ending in a boundary character could never match: Lookup only tries prefixes
	// that stop just before one.
	if isBoundary(family[len(family)-1]) {
		return "", Price{}, fmt.Errorf("family %q must not end with %q", family, family[len(family)-1])
	}
	in, outPrice, ok := strings.Cut(prices, "/")
	if !ok {
		return "", Price{}, errors.New(`want in/out prices, e.g. "0.25/1.25"`)
	}
	inMicros, err := parseUSD(in)
	if err != nil {
		return "", Price{}, fmt.Errorf("input price: %w", err)
	}
	outMicros, err := parseUSD(outPrice)
	if err != nil {
		return "", Price{}, fmt.Errorf("output price: %w", err)
	}
	return family, Price{InputPerMillionMicros: inMicros, OutputPerMillionMicros: outMicros}, nil
}

// parseUSD reads a non-negative decimal dollar amount into micro-dollars without going
// through float64, so "0.1" is exactly 100000.
func parseUSD(s string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("%q is not a USD amount", s)
	}
	if hasPoint && frac == "" {
		return 0, fmt.Errorf("%q is not a USD amount: no digits after the point", s)
	}
	if len(frac) > 6 {
		return 0, fmt.Errorf("%q has more than 6 decimal places", s)
	}
	var micros int64
	for _, c := range whole {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a USD amount", s)
		}
		if micros > (math.MaxInt64/perMillion-int64(c-'0'))/10 {
			return 0, fmt.Errorf("%q is too large", s)
		}
		micros = micros*10 + int64(c-'0')
	}
	var fracMicros int64
	scale := int64(perMillion / 10)
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a USD amount", s)
		}
		fracMicros += int64(c-'0') * scale
		scale /= 10
	}
	micros *= perMillion
	if micros > math.MaxInt64-fracMicros {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return micros + fracMicros, nil
}
