package origins

import (
	"strings"

	"github.com/corsfilter/corsfilter/internal/streq"
)

// Set is a compiled allow-list of origins. Its lookup cost depends on the
// length of the request's origin, never on the number of entries: exact
// origins are one hash lookup of the whole value, and patterns are a few
// hash lookups per label of the origin's host, each keyed by a substring of
// the origin (no allocation). Small lists, the common case, are searched by
// comparing strings, which costs less than hashing the origin.
//
// A Set is built once and then only read, so it is safe for concurrent use.
type Set struct {
	exact strSet // serialized exact origins
	// lengths has bit n set when some exact origin is n bytes long, so that
	// most origins not in the set are refused without hashing them.
	// longExact: some exact origin is longer than the bitmap covers.
	lengths   [(MaxLength + 64) / 64]uint64
	longExact bool

	schemes     map[string]*schemePatterns
	fewSchemes  []*schemePatterns // every value of schemes while there are at most fewMax
	any         bool              // "*": every origin
	null        bool              // the opaque origin "null"
	hasPatterns bool
	n           int
}

// schemePatterns holds the patterns of one scheme.
type schemePatterns struct {
	scheme string
	// subdomains holds "." + base domain + optional ":port", the tail of
	// every origin a subdomain pattern with a fixed port admits.
	subdomains strSet
	// subdomainsAnyPort holds "." + base domain for "*.base:*" patterns.
	subdomainsAnyPort strSet
	// anyPort holds hosts of "host:*" patterns.
	anyPort strSet
}

// fewMax is the size up to which a strSet keeps its elements in a slice
// too, and the number of schemes up to which a Set searches a slice: up to
// that many comparisons of lengths and strings cost less than hashing.
const fewMax = 8

// strSet is a set of strings that searches a slice while it is small.
type strSet struct {
	m   map[string]struct{}
	few []string // every element while there are at most fewMax; nil beyond
}

func (s *strSet) add(k string) {
	if s.m == nil {
		s.m = map[string]struct{}{}
	}
	if _, dup := s.m[k]; dup {
		return
	}
	s.m[k] = struct{}{}
	switch {
	case len(s.m) <= fewMax:
		s.few = append(s.few, k)
	default:
		s.few = nil
	}
}

func (s *strSet) len() int { return len(s.m) }

func (s *strSet) has(k string) bool {
	if s.few != nil || len(s.m) == 0 {
		for _, e := range s.few {
			if streq.Equal(e, k) {
				return true
			}
		}
		return false
	}
	_, ok := s.m[k]
	return ok
}

// hasLabelSuffix reports whether the set holds name[i:] for some i >= 1 at
// which name has a '.'. Precondition: name is a host, or host:port, as
// Parse accepts it, and each element starts with '.'.
func (s *strSet) hasLabelSuffix(name string) bool {
	if s.few != nil || len(s.m) == 0 {
		for _, e := range s.few {
			if len(e) < len(name) && name[len(name)-len(e):] == e {
				return true
			}
		}
		return false
	}
	for i := 1; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		if _, ok := s.m[name[i:]]; ok {
			return true
		}
	}
	return false
}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{schemes: map[string]*schemePatterns{}}
}

// Add adds a pattern to the set.
func (s *Set) Add(p Pattern) {
	s.n++
	if p.IsExact() {
		o := p.String()
		s.exact.add(o)
		if n := len(o); n < 64*len(s.lengths) {
			s.lengths[n/64] |= 1 << (n % 64)
		} else {
			s.longExact = true
		}
		return
	}
	s.hasPatterns = true
	sp := s.schemes[p.Scheme]
	if sp == nil {
		sp = &schemePatterns{scheme: p.Scheme}
		s.schemes[p.Scheme] = sp
		if len(s.schemes) <= fewMax {
			s.fewSchemes = append(s.fewSchemes, sp)
		} else {
			s.fewSchemes = nil
		}
	}
	switch {
	case p.Subdomains && p.Port == "*":
		sp.subdomainsAnyPort.add("." + p.Host)
	case p.Subdomains && p.Port != "":
		sp.subdomains.add("." + p.Host + ":" + p.Port)
	case p.Subdomains:
		sp.subdomains.add("." + p.Host)
	default:
		sp.anyPort.add(p.Host)
	}
}

// AddAny makes the set contain every origin.
func (s *Set) AddAny() { s.any, s.n = true, s.n+1 }

// AddNull makes the set contain the opaque origin "null".
func (s *Set) AddNull() { s.null, s.n = true, s.n+1 }

// Any reports whether the set contains every origin.
func (s *Set) Any() bool { return s.any }

// Len returns the number of entries.
func (s *Set) Len() int { return s.n }

// HasPatterns reports whether the set has entries other than exact origins,
// "*" and "null": subdomain and port patterns, which only match an origin
// that parses.
func (s *Set) HasPatterns() bool { return s.hasPatterns }

// Contains reports whether origin, a raw Origin header value, is in the set.
func (s *Set) Contains(origin string) bool {
	if s.ContainsLiteral(origin) {
		return true
	}
	if matched, known := s.MatchPatternRaw(origin); known {
		return matched
	}
	o, ok := Parse(origin)
	return ok && s.MatchesPattern(origin, o)
}

// ContainsLiteral reports whether the set contains origin without a
// pattern: the set holds any origin, origin itself, or "null" is origin and
// in the set. Contains is ContainsLiteral or, for an origin that parses,
// MatchesPattern.
func (s *Set) ContainsLiteral(origin string) bool {
	if s.any {
		return true
	}
	if n := len(origin); n < 64*len(s.lengths) && s.lengths[n/64]&(1<<(n%64)) != 0 || s.longExact {
		if s.exact.has(origin) {
			return true
		}
	}
	return s.null && origin == "null"
}

// MatchPatternRaw is MatchesPattern for an origin not yet parsed: it
// reports whether origin parses and a subdomain or port pattern of the set
// matches it. While the set's patterns are few, it compares them one by one
// with the ends of the raw value and checks only the bytes no pattern
// covers, which costs less than parsing; known is false when they are too
// many, and the caller must parse and call MatchesPattern.
func (s *Set) MatchPatternRaw(origin string) (matched, known bool) {
	if !s.hasPatterns || len(origin) > MaxLength {
		return false, true
	}
	if s.fewSchemes == nil {
		return false, false
	}
	// A parsed origin's scheme ends at its first ':', which "//" follows:
	// at most one scheme of the set starts origin so.
	var sp *schemePatterns
	for _, e := range s.fewSchemes {
		if n := len(e.scheme); len(origin) > n+3 && origin[n] == ':' && origin[n+1] == '/' && origin[n+2] == '/' && origin[:n] == e.scheme {
			sp = e
			break
		}
	}
	if sp == nil {
		return false, true
	}
	if !sp.subdomains.small() || !sp.subdomainsAnyPort.small() || !sp.anyPort.small() {
		return false, false
	}
	// rest is host[:port]. An element of subdomains ends with the pattern's
	// host, or its host and port: the origin is labels, then the element.
	// Patterns are valid, so only those labels need checking.
	rest := origin[len(sp.scheme)+len("://"):]
	for _, e := range sp.subdomains.few {
		if len(e) < len(rest) && rest[len(rest)-len(e):] == e && validLabels(rest[:len(rest)-len(e)]) {
			return true, true
		}
	}
	if len(sp.subdomainsAnyPort.few) == 0 && len(sp.anyPort.few) == 0 {
		return false, true
	}
	host, ok := splitTail(rest)
	if !ok {
		return false, true
	}
	for _, e := range sp.subdomainsAnyPort.few {
		if len(e) < len(host) && host[len(host)-len(e):] == e && validLabels(host[:len(host)-len(e)]) {
			return true, true
		}
	}
	for _, h := range sp.anyPort.few {
		if host == h {
			return true, true
		}
	}
	return false, true
}

// small reports whether the set's elements are all in its slice.
func (s *strSet) small() bool { return s.few != nil || len(s.m) == 0 }

// validLabels reports whether s is one or more non-empty labels of a host,
// separated by dots, as Parse accepts them.
func validLabels(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !hostChars[s[i]] || s[i] == '.' && s[i-1] == '.' {
			return false
		}
	}
	return true
}

// splitTail returns the host of host[:port], the end of an origin after
// "://", and whether its port is as Parse accepts it: absent, or 1 to 5
// digits. It does not check the host's bytes.
func splitTail(rest string) (host string, ok bool) {
	end := strings.IndexByte(rest, ':')
	if rest != "" && rest[0] == '[' {
		end = strings.IndexByte(rest, ']') + 1
		if end == 0 {
			return "", false
		}
	} else if end < 0 {
		return rest, true
	}
	host, port := rest[:end], rest[end:]
	if port == "" {
		return host, true
	}
	if port[0] != ':' || len(port) < 2 || len(port) > 6 || !allNumeric(port[1:]) {
		return "", false
	}
	return host, true
}

// MatchesPattern reports whether a subdomain or port pattern of the set
// matches origin. Precondition: o, true = Parse(origin).
func (s *Set) MatchesPattern(origin string, o Origin) bool {
	if !s.hasPatterns {
		return false
	}
	var sp *schemePatterns
	if s.fewSchemes != nil {
		for _, e := range s.fewSchemes {
			if e.scheme == o.Scheme {
				sp = e
				break
			}
		}
	} else {
		sp = s.schemes[o.Scheme]
	}
	if sp == nil {
		return false
	}
	if sp.anyPort.len() > 0 && sp.anyPort.has(o.Host) {
		return true
	}
	// tail is the origin from the host on: host[:port]. The elements of
	// subdomains end with the port when the pattern fixes one, and with
	// the host otherwise: only an origin without a port can match those.
	tail := origin[len(o.Scheme)+len("://"):]
	return sp.subdomains.len() > 0 && sp.subdomains.hasLabelSuffix(tail) ||
		sp.subdomainsAnyPort.len() > 0 && sp.subdomainsAnyPort.hasLabelSuffix(o.Host)
}
