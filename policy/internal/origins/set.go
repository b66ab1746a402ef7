package origins

// Set is a compiled allow-list of origins. Its lookup cost depends on the
// length of the request's origin, never on the number of entries.
//
// A Set is built once and then only read, so it is safe for concurrent use.
type Set struct {
	exact      map[string]struct{} // serialized exact origins
	patterns   map[key]struct{}    // port wildcards and subdomain patterns
	subdomains bool                // patterns holds a subdomain pattern
	any        bool                // "*": every origin
	null       bool                // the opaque origin "null"
}

// key identifies a pattern. For a subdomain pattern host is "." + the base
// domain; port is "*" for a port wildcard.
type key struct{ scheme, host, port string }

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{exact: map[string]struct{}{}, patterns: map[key]struct{}{}}
}

// Add adds a pattern to the set.
func (s *Set) Add(p Pattern) {
	switch {
	case p.IsExact():
		s.exact[p.String()] = struct{}{}
	case p.Subdomains:
		s.subdomains = true
		s.patterns[key{p.Scheme, "." + p.Host, p.Port}] = struct{}{}
	default:
		s.patterns[key{p.Scheme, p.Host, p.Port}] = struct{}{}
	}
}

// AddAny makes the set contain every origin.
func (s *Set) AddAny() { s.any = true }

// AddNull makes the set contain the opaque origin "null".
func (s *Set) AddNull() { s.null = true }

// Any reports whether the set contains every origin.
func (s *Set) Any() bool { return s.any }

// Len returns the number of entries.
func (s *Set) Len() int {
	n := len(s.exact) + len(s.patterns)
	if s.any {
		n++
	}
	if s.null {
		n++
	}
	return n
}

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
	if len(s.patterns) == 0 {
		return false
	}
	o, ok := Parse(origin)
	if !ok {
		return false
	}
	if _, ok := s.patterns[key{o.Scheme, o.Host, "*"}]; ok {
		return true
	}
	if !s.subdomains {
		return false
	}
	h := o.Host
	for i := 1; i < len(h); i++ {
		if h[i] != '.' {
			continue
		}
		if h[i-1] == '.' {
			return false // an empty label never matches
		}
		suffix := h[i:]
		if _, ok := s.patterns[key{o.Scheme, suffix, o.Port}]; ok {
			return true
		}
		if _, ok := s.patterns[key{o.Scheme, suffix, "*"}]; ok {
			return true
		}
	}
	return false
}
