package origins

// Set is a compiled allow-list of origins. Its lookup cost depends on the
// length of the request's origin, never on the number of entries: exact
// origins are one hash lookup of the whole value, and patterns are a few
// hash lookups per label of the origin's host, each keyed by a substring of
// the origin (no allocation).
//
// A Set is built once and then only read, so it is safe for concurrent use.
type Set struct {
	exact   map[string]struct{} // serialized exact origins
	schemes map[string]*schemePatterns
	any     bool // "*": every origin
	null    bool // the opaque origin "null"
	n       int
}

// schemePatterns holds the patterns of one scheme.
type schemePatterns struct {
	// subdomains holds "." + base domain + optional ":port", the tail of
	// every origin a subdomain pattern with a fixed port admits.
	subdomains map[string]struct{}
	// subdomainsAnyPort holds "." + base domain for "*.base:*" patterns.
	subdomainsAnyPort map[string]struct{}
	// anyPort holds hosts of "host:*" patterns.
	anyPort map[string]struct{}
}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{exact: map[string]struct{}{}, schemes: map[string]*schemePatterns{}}
}

// Add adds a pattern to the set.
func (s *Set) Add(p Pattern) {
	s.n++
	if p.IsExact() {
		s.exact[p.String()] = struct{}{}
		return
	}
	sp := s.schemes[p.Scheme]
	if sp == nil {
		sp = &schemePatterns{map[string]struct{}{}, map[string]struct{}{}, map[string]struct{}{}}
		s.schemes[p.Scheme] = sp
	}
	switch {
	case p.Subdomains && p.Port == "*":
		sp.subdomainsAnyPort["."+p.Host] = struct{}{}
	case p.Subdomains && p.Port != "":
		sp.subdomains["."+p.Host+":"+p.Port] = struct{}{}
	case p.Subdomains:
		sp.subdomains["."+p.Host] = struct{}{}
	default:
		sp.anyPort[p.Host] = struct{}{}
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

// Contains reports whether origin, a raw Origin header value, is in the set.
func (s *Set) Contains(origin string) bool {
	if s.any {
		return true
	}
	if _, ok := s.exact[origin]; ok {
		return true
	}
	if origin == "null" {
		return s.null
	}
	if len(s.schemes) == 0 {
		return false
	}
	o, ok := Parse(origin)
	if !ok {
		return false
	}
	sp := s.schemes[o.Scheme]
	if sp == nil {
		return false
	}
	if len(sp.anyPort) > 0 {
		if _, ok := sp.anyPort[o.Host]; ok {
			return true
		}
	}
	if len(sp.subdomains) == 0 && len(sp.subdomainsAnyPort) == 0 {
		return false
	}
	// tail is the origin from the host on: host[:port].
	tail := origin[len(o.Scheme)+len("://"):]
	h := o.Host
	for i := 1; i < len(h); i++ {
		if h[i] != '.' {
			continue
		}
		if h[i-1] == '.' {
			return false // an empty label never matches
		}
		if _, ok := sp.subdomains[tail[i:]]; ok {
			return true
		}
		if len(sp.subdomainsAnyPort) > 0 {
			if _, ok := sp.subdomainsAnyPort[h[i:]]; ok {
				return true
			}
		}
	}
	return false
}
