package pricing

import (
	"math"
	"testing"
)

func TestFormatUSD(t *testing.T) {
	tests := []struct {
		micros int64
		want   string
	}{
		{0, "$0.00"},
		{1, "$0.000001"},
		{375, "$0.000375"},
		{12_300, "$0.0123"},
		{10_000, "$0.01"},
		{100_000, "$0.10"},
		{1_500_000, "$1.50"},
		{1_000_000, "$1.00"},
		{1_234_567, "$1.234567"},
		{123_000_000, "$123.00"},
		{-250_000, "-$0.25"},
		{-1, "-$0.000001"},
		{math.MaxInt64, "$9223372036854.775807"},
		{math.MinInt64, "-$9223372036854.775808"},
	}
	for _, tt := range tests {
		if got := FormatUSD(tt.micros); got != tt.want {
			t.Errorf("FormatUSD(%d) = %q, want %q", tt.micros, got, tt.want)
		}
	}
}
