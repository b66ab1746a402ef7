package origins

import (
	"strings"

	"github.com/corsfilter/corsfilter/internal/streq"
)

// MaxLength caps the length of an Origin header value the matcher will look
// at: a 64-byte scheme, "://", a 253-byte host and ":" plus a 5-digit port,
// with room for IPv6 brackets. Longer values are never allowed.
const MaxLength = 64 + len("://") + 253 + len("[]") + len(":65535")

// Alphabet holds every character of an origin Parse accepts: a scheme's
// letters, digits, '+', '-' and '.', "://", a host's letters, digits, '-',
// '_' and '.' or a bracketed IPv6 address, and a port's ':' and digits.
const Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789+-._:/[]"

// Origin is a parsed tuple origin. Its fields are substrings of the value it
// was parsed from, so parsing allocates nothing.
type Origin struct {
	Scheme string // lower case, e.g. "https"
	Host   string // lower-case domain, dotted IPv4, or bracketed IPv6
	Port   string // decimal digits, "" when absent
}

// Parse parses a serialized origin ("https://example.com:8443") as a browser
// sends it in the Origin header. It is strict: it accepts only lower-case
// schemes and hosts without empty labels, and nothing after the port. It does not reject
// non-canonical forms (such as a default port): those simply match no
// canonical allow-list entry.
//
// [RFC 6454 §6.2]: https://www.rfc-editor.org/rfc/rfc6454#section-6.2
func Parse(s string) (Origin, bool) {
	if len(s) > MaxLength {
		return Origin{}, false
	}
	i := schemeEnd(s)
	if i <= 0 || len(s) < i+3 || s[i:i+3] != "://" {
		return Origin{}, false
	}
	o := Origin{Scheme: s[:i]}
	rest := s[i+3:]
	hostEnd := 0
	if len(rest) > 0 && rest[0] == '[' {
		j := 1
		for j < len(rest) && isIPv6Char(rest[j]) {
			j++
		}
		if j == 1 || j >= len(rest) || rest[j] != ']' {
			return Origin{}, false
		}
		hostEnd = j + 1
	} else {
		// Labels are not empty; one trailing dot is kept, as browsers do.
		// One table lookup per byte, then one search for an empty label.
		for hostEnd < len(rest) && hostChars[rest[hostEnd]] {
			hostEnd++
		}
		if hostEnd == 0 || rest[0] == '.' || strings.Contains(rest[:hostEnd], "..") {
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

// schemeEnd returns the length of the scheme at the start of s, or -1 when s
// does not start with a valid lower-case scheme.
func schemeEnd(s string) int {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return -1
	}
	for i := 1; i < len(s) && i <= 64; i++ {
		if c := s[i]; !schemeChars[c] {
			if c == ':' {
				return i
			}
			return -1
		}
	}
	return -1
}

// hostChars holds the bytes of a host: a-z, 0-9, '-', '_' and '.'.
var hostChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	return t
}()

// schemeChars holds the bytes of a lower-case scheme after its first.
var schemeChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
	}
	return t
}()

func isHostChar(c byte) bool { return hostChars[c] }

func isIPv6Char(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == ':' || c == '.'
}

// DefaultPort returns the default port of a scheme, or "" if it has none.
func DefaultPort(scheme string) string {
	switch scheme {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	}
	return ""
}

// IsLoopback reports whether host names this machine: localhost (or a
// subdomain of it), 127.0.0.0/8, or [::1]. Browsers treat such origins as
// potentially trustworthy even over plain http.
func IsLoopback(host string) bool {
	if host == "localhost" || hasSuffixFold(host, ".localhost") || host == "[::1]" {
		return true
	}
	return len(host) > 4 && host[:4] == "127." && isIPv4(host)
}

// SameOrigin reports whether o is the origin of a request with the given
// scheme and authority (host with an optional port), comparing hosts
// case-insensitively and without one trailing dot (the absolute form of a
// name is the same host), and treating an elided default port as that port.
func SameOrigin(o Origin, scheme, authority string) bool {
	if scheme == "" || !equalFold(o.Scheme, scheme) {
		return false
	}
	host, port := SplitHostPort(authority)
	if !equalFold(withoutDot(o.Host), withoutDot(host)) {
		return false
	}
	def := DefaultPort(o.Scheme)
	op, rp := o.Port, port
	if op == "" {
		op = def
	}
	if rp == "" {
		rp = def
	}
	return op == rp
}

// MaybeSameOrigin reports whether origin, a raw Origin value, could be the
// origin of a request to authority under some scheme: when it is false,
// SameOrigin(o, scheme, authority) is false for any scheme if Parse(origin)
// returns o. It compares the authority's host with the text after the
// origin's "://", without parsing the origin.
func MaybeSameOrigin(origin, authority string) bool {
	// A parsed origin's scheme ends at its first ':', which "//" follows.
	i := strings.IndexByte(origin, ':')
	if i < 0 || len(origin)-i < len("://") || origin[i+1] != '/' || origin[i+2] != '/' {
		return false
	}
	host, _ := SplitHostPort(authority)
	host = withoutDot(host)
	rest := origin[i+len("://"):]
	return len(rest) >= len(host) && equalFold(rest[:len(host)], host)
}

// withoutDot returns host without one trailing dot.
func withoutDot(host string) string {
	if len(host) > 0 && host[len(host)-1] == '.' {
		return host[:len(host)-1]
	}
	return host
}

// SplitHostPort splits an authority into its host and port ("" when
// absent). Bracketed IPv6 hosts keep their brackets.
func SplitHostPort(authority string) (host, port string) {
	if len(authority) > 0 && authority[0] == '[' {
		for i := 1; i < len(authority); i++ {
			if authority[i] == ']' {
				if i+1 < len(authority) && authority[i+1] == ':' {
					return authority[:i+1], authority[i+2:]
				}
				return authority[:i+1], ""
			}
		}
		return authority, ""
	}
	for i := len(authority) - 1; i >= 0; i-- {
		c := authority[i]
		if c == ':' {
			return authority[:i], authority[i+1:]
		}
		if c < '0' || c > '9' {
			break
		}
	}
	return authority, ""
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if streq.Equal(a, b) {
		return true // the usual case: one comparison of the whole
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && equalFold(s[len(s)-len(suffix):], suffix)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isIPv4 reports whether s is a canonical dotted-decimal IPv4 address: four
// decimal octets without leading zeros.
func isIPv4(s string) bool {
	octets, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 255 || octets == 4 {
				return false
			}
			octets++
			n, digits = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits > 0 && n == 0 {
			return false
		}
		n = n*10 + int(c-'0')
		digits++
		if digits > 3 {
			return false
		}
	}
	return octets == 4
}
