// Package ascii folds case in the ASCII range only, which is all that header
// names, methods, schemes and hosts in canonical form use. Unlike package
// strings' Unicode-aware functions it links no Unicode tables into the
// plugin, and it never allocates for input that is already lower case.
package ascii

import "github.com/corsfilter/corsfilter/internal/streq"

// Lower returns s with A-Z mapped to a-z. It returns s itself when s has no
// upper-case letter.
func Lower(s string) string {
	i := 0
	for i < len(s) && !isUpper(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if isUpper(b[i]) {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// EqualFold reports whether a and b are equal under ASCII case folding.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if streq.Equal(a, b) {
		// Hosts hand names over in lower case, and the names compared
		// with are lower case: one comparison of the whole, which costs
		// a fraction of the loop below in wasm.
		return true
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if isUpper(x) {
			x += 'a' - 'A'
		}
		if isUpper(y) {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// TrimSpace returns s without leading and trailing spaces and tabs (HTTP's
// optional whitespace).
func TrimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// Atoi parses s, an optional '-' and then decimal digits only, as an int of
// at most 18 digits; ok is false for anything else. It stands in for
// strconv.Atoi in the plugin: strconv's errors quote their input, which
// links strconv's Unicode quoting into cors.wasm.
func Atoi(s string) (n int, ok bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
