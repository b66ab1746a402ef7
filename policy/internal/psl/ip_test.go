package psl

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestIsIP compares isIP with net/netip.ParseAddr.
func TestIsIP(t *testing.T) {
	cases := []string{
		"", "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.0.0.0", "01.2.3.4", "1.2.3", "1.2.3.4.", ".1.2.3.4",
		"1..2.3", "1.2.3.4.5", "1.2.3.a", "::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9",
		"1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "::1:2:3:4:5:6:7:8", "1::2::3", "12345::", "fffff::1", "FFFF::1",
		"::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4",
		"::1.2.3.04", "::1a.2.3.4", "1:2:3:4:5:6:7:8%z", "fe80::1%eth0", "fe80::1%", "%eth0", "a%b:c",
		":", ":1", "1:", "1:::2", ":::", "::%z", "1.2.3.4%z", "::ffff:1.2.3.4%z", "1:2:3:4:5:6:7:8:",
	}
	r := rand.New(rand.NewPCG(3, 4))
	const chars = "0123456789abcdefgA:.%"
	for range 200000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = chars[r.IntN(len(chars))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		_, err := netip.ParseAddr(s)
		if got := isIP(s); got != (err == nil) {
			t.Errorf("isIP(%q) = %v; netip.ParseAddr: %v", s, got, err)
		}
	}
}
