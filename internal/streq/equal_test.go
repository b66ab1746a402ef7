package streq_test

import (
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/internal/streq"
)

// TestEqual compares every pair of a set of strings that differ in length,
// in one byte at each position, or not at all, with ==. make test runs it
// in wasm too, where Equal loads eight bytes at a time.
func TestEqual(t *testing.T) {
	var all []string
	for n := range 40 {
		base := strings.Repeat("x", n)
		all = append(all, base, strings.Clone(base))
		for i := range n {
			b := []byte(base)
			b[i] = 'y'
			all = append(all, string(b))
			b[i] = 'x' ^ 0x80
			all = append(all, string(b))
		}
	}
	for _, a := range all {
		for _, b := range all {
			if got, want := streq.Equal(a, b), a == b; got != want {
				t.Fatalf("Equal(%q, %q) = %v; want %v", a, b, got, want)
			}
		}
	}
}

// Substrings of one buffer: the loads start at any alignment.
func TestEqual_unaligned(t *testing.T) {
	buf := strings.Repeat("access-control-allow-origin", 4)
	for i := range 16 {
		for j := range 16 {
			for n := range 40 {
				a, b := buf[i:i+n], buf[j:j+n]
				if got, want := streq.Equal(a, b), a == b; got != want {
					t.Fatalf("Equal(%q, %q) = %v; want %v", a, b, got, want)
				}
			}
		}
	}
}
