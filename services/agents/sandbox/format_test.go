package sandbox

import "testing"

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 900: "900 B", 1024: "1 KiB", 100000: "97.7 KiB", 256 << 20: "256 MiB", 3 << 29: "1.5 GiB", 2 << 30: "2 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
