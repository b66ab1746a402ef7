package origins

import "testing"

// TestParse_reference checks Parse against the byte-by-byte implementation
// it replaced, on every string of up to 5 bytes over an alphabet of the
// bytes that matter, after a few prefixes.
func TestParse_reference(t *testing.T) {
	alphabet := []byte{'a', 'Z', '0', '.', '-', '_', ':', '/', '[', ']', '+', '@', 0x80}
	var gen func(s string, n int)
	gen = func(s string, n int) {
		got, gok := Parse(s)
		want, wok := parseRef(s)
		if got != want || gok != wok {
			t.Fatalf("Parse(%q) = %+v, %v; the reference says %+v, %v", s, got, gok, want, wok)
		}
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(s+string(c), n-1)
		}
	}
	for _, prefix := range []string{"", "h", "https://", "a+b-c.d://", "https://a.b:"} {
		gen(prefix, 5)
	}
}

func parseRef(s string) (Origin, bool) {
	if len(s) > MaxLength {
		return Origin{}, false
	}
	i := schemeEndRef(s)
	if i <= 0 || len(s) < i+3 || s[i:i+3] != "://" {
		return Origin{}, false
	}
	o := Origin{Scheme: s[:i]}
	rest := s[i+3:]
	hostEnd := 0
	if len(rest) > 0 && rest[0] == '[' {
		j := 1
		for j < len(rest) && isIPv6CharRef(rest[j]) {
			j++
		}
		if j == 1 || j >= len(rest) || rest[j] != ']' {
			return Origin{}, false
		}
		hostEnd = j + 1
	} else {
		// Labels are not empty; one trailing dot is kept, as browsers do.
		for hostEnd < len(rest) && isHostCharRef(rest[hostEnd]) {
			if rest[hostEnd] == '.' && (hostEnd == 0 || rest[hostEnd-1] == '.') {
				return Origin{}, false
			}
			hostEnd++
		}
		if hostEnd == 0 {
			return Origin{}, false
		}
	}
	o.Host = rest[:hostEnd]
	rest = rest[hostEnd:]
	if rest == "" {
		return o, true
	}
	if rest[0] != ':' || len(rest) < 2 || len(rest) > 6 {
		return Origin{}, false
	}
	for k := 1; k < len(rest); k++ {
		if rest[k] < '0' || rest[k] > '9' {
			return Origin{}, false
		}
	}
	o.Port = rest[1:]
	return o, true
}
func schemeEndRef(s string) int {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return -1
	}
	for i := 1; i < len(s) && i <= 64; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '-', c == '.':
		case c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}
func isHostCharRef(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_'
}
func isIPv6CharRef(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == ':' || c == '.'
}
