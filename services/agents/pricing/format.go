package pricing

import (
	"strconv"
	"strings"
)

// FormatUSD renders micro-dollars as dollars with up to six decimals, trailing zeros trimmed
// but at least two kept: "$0.00", "$1.50", "$0.000375", "-$0.25". A run's cost is often a
// fraction of a cent, which two fixed decimals would show as "$0.00".
func FormatUSD(micros int64) string {
	sign := ""
	// Work in uint64 so math.MinInt64 has a magnitude.
	abs := uint64(micros)
	if micros < 0 {
		sign = "-"
		abs = -abs
	}
	frac := strconv.FormatUint(abs%perMillion+perMillion, 10)[1:] // six digits, zero padded
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return sign + "$" + strconv.FormatUint(abs/perMillion, 10) + "." + frac
}
