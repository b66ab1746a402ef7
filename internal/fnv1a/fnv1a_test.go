package fnv1a

import (
	"hash/fnv"
	"testing"
)

func TestString_isHashFNV(t *testing.T) {
	for _, s := range []string{"", "a", "https://app.example.com", "registry\x00registry.internal\x00/origins\x001000"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got, want := String(s), h.Sum64(); got != want {
			t.Errorf("String(%q) = %x; hash/fnv gives %x", s, got, want)
		}
	}
}
