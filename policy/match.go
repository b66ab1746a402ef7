package policy

import (
	"github.com/corsfilter/corsfilter/policy/internal/ascii"
	"slices"
	"strings"

	"github.com/corsfilter/corsfilter/policy/internal/headers"
	"github.com/corsfilter/corsfilter/policy/internal/methods"
	"github.com/corsfilter/corsfilter/policy/internal/origins"
	"github.com/corsfilter/corsfilter/policy/internal/regex"
	"github.com/tidwall/gjson"
)

// match selects the requests a rule governs. Fields combine with AND; the
// entries of one field with OR; paths, path_prefixes and path_regexes are
// three ways to say "path" and combine with OR. An empty match is a
// catch-all.
type match struct {
	hosts    []string // lower case; "*.example.com" entries stored as ".example.com"
	paths    []string
	prefixes []string
	pathRe   []string
	routes   []string
	methods  []string

	compiledPathRe []*regex.Regexp
}

func (m *match) catchAll() bool {
	return len(m.hosts) == 0 && len(m.paths) == 0 && len(m.prefixes) == 0 &&
		len(m.pathRe) == 0 && len(m.routes) == 0 && len(m.methods) == 0
}

func (d *decoder) match(v gjson.Result, path string) *match {
	m := &match{}
	d.object(v, path, matchKeys, func(key string, v gjson.Result, p string) {
		d.stringList(v, p, false, func(s, ep string) {
			switch key {
			case "hosts":
				if h, ok := d.hostPattern(s, ep); ok {
					m.hosts = append(m.hosts, h)
				}
			case "paths", "path_prefixes":
				if !strings.HasPrefix(s, "/") || strings.ContainsAny(s, "?# \t\r\n\x00") {
					d.errs.add(ep, ProblemInvalidMatch, s, "must start with \"/\" and have no query, fragment, space or control character")
				} else if key == "paths" {
					m.paths = append(m.paths, s)
				} else {
					m.prefixes = append(m.prefixes, s)
				}
			case "path_regexes":
				if re := d.anchoredRegex(s, ep); re != nil {
					m.pathRe = append(m.pathRe, s)
					m.compiledPathRe = append(m.compiledPathRe, re)
				}
			case "route_names":
				if s == "" {
					d.errs.add(ep, ProblemInvalidMatch, s, "must not be empty")
				} else {
					m.routes = append(m.routes, s)
				}
			case "methods":
				switch {
				case s == "*":
					d.errs.add(ep, ProblemInvalidMethod, s, "matches no method: remove match.methods to match every method")
				case !headers.IsToken(s):
					d.errs.add(ep, ProblemInvalidMethod, s, "not a valid method token")
				case methods.Normalized(s) != s:
					d.errs.add(ep, ProblemInvalidMethod, s, "browsers send this method as \""+methods.Normalized(s)+"\", and methods are case-sensitive")
				default:
					m.methods = append(m.methods, s)
				}
			}
		})
	})
	return m
}

// hostPattern validates a match.hosts entry: a host name or IP address
// without port, optionally with a leading "*." label (one or more labels).
func (d *decoder) hostPattern(s, path string) (string, bool) {
	h := ascii.Lower(s)
	wild := strings.HasPrefix(h, "*.")
	name := strings.TrimPrefix(h, "*.")
	switch {
	case name == "":
		d.errs.add(path, ProblemInvalidMatch, s, "empty host")
	case strings.Contains(name, "*"):
		d.errs.add(path, ProblemWildcard, s, "a wildcard is allowed only as a leading \"*.\" label")
	case name[0] == '[':
		if wild || !origins.IsIPv6Literal(name) {
			d.errs.add(path, ProblemInvalidMatch, s, "not a valid bracketed IPv6 address")
		} else {
			return name, true
		}
	case strings.Contains(name, ":"):
		d.errs.add(path, ProblemInvalidMatch, s, "hosts match without the port: remove it")
	case !validHostName(name):
		d.errs.add(path, ProblemInvalidMatch, s, "not a valid host name")
	default:
		if wild {
			return "." + name, true
		}
		return name, true
	}
	return "", false
}

func validHostName(h string) bool {
	if strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// matches reports whether the rule governs r; method is the actual
// request's method, or the requested method of a preflight.
func (m *match) matches(r *Request, method string) bool {
	if len(m.methods) > 0 && !slices.Contains(m.methods, method) {
		return false
	}
	if len(m.routes) > 0 && !slices.Contains(m.routes, r.RouteName) {
		return false
	}
	if len(m.hosts) > 0 {
		host, _ := origins.SplitHostPort(r.Authority)
		if !m.matchesHost(host) {
			return false
		}
	}
	if len(m.paths) > 0 || len(m.prefixes) > 0 || len(m.compiledPathRe) > 0 {
		p := pathOnly(r.Path)
		if !m.matchesPath(p) {
			return false
		}
	}
	return true
}

// matchesHost reports whether the request's host (its authority without
// the port) matches an entry, ignoring case and one trailing dot:
// "api.example.com." is the absolute form of "api.example.com", the same
// host to DNS and to the upstream, so it must not escape that host's rule.
func (m *match) matchesHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	for _, h := range m.hosts {
		if h[0] == '.' {
			// One or more labels before the suffix; the apex is excluded.
			if len(host) > len(h) && ascii.EqualFold(host[len(host)-len(h):], h) {
				return true
			}
		} else if ascii.EqualFold(host, h) {
			return true
		}
	}
	return false
}

func (m *match) matchesPath(p string) bool {
	if slices.Contains(m.paths, p) {
		return true
	}
	for _, pre := range m.prefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	for _, re := range m.compiledPathRe {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

// pathOnly returns :path without its query or fragment. strings.IndexByte
// runs in assembly: in wasm, a Go loop costs a jump through the function's
// dispatch table per byte, and strings.IndexAny more than the rest of a
// rule's match.
func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if i := strings.IndexByte(p, '#'); i >= 0 {
		p = p[:i]
	}
	return p
}
