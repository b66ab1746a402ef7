package origins

import (
	"github.com/corsfilter/corsfilter/policy/internal/ascii"
	"strconv"
	"strings"
)

// Defect says why an origin pattern is refused. The policy package maps each
// defect to one of its error reasons.
type Defect uint8

const (
	// Malformed: not of the form scheme://host[:port].
	Malformed Defect = iota + 1
	// NonCanonical: a browser would never send it in this form (upper case,
	// default port, trailing slash, path, userinfo, trailing dot, ...).
	NonCanonical
	// MisplacedWildcard: a "*" other than a leading "*." label or a ":*" port.
	MisplacedWildcard
	// OpaqueScheme: a scheme whose documents have an opaque origin, which
	// browsers serialize as "null".
	OpaqueScheme
)

// PatternError reports a refused origin pattern.
type PatternError struct {
	Defect Defect
	Detail string // lower-case explanation, without the pattern itself
}

func (e *PatternError) Error() string { return e.Detail }

func fail(d Defect, detail string) (Pattern, *PatternError) {
	return Pattern{}, &PatternError{Defect: d, Detail: detail}
}

// Pattern is a validated origin pattern: an exact origin, a subdomain
// pattern ("https://*.example.com": one or more labels, the apex excluded),
// a port wildcard ("http://localhost:*"), or both.
type Pattern struct {
	Scheme     string
	Host       string // for a subdomain pattern, the base domain after "*."
	Port       string // "" for the scheme's default, "*" for any port, or digits
	Subdomains bool   // the host is "*." + Host
}

// String returns the pattern in its canonical serialized form.
func (p Pattern) String() string {
	var b strings.Builder
	b.WriteString(p.Scheme)
	b.WriteString("://")
	if p.Subdomains {
		b.WriteString("*.")
	}
	b.WriteString(p.Host)
	if p.Port != "" {
		b.WriteByte(':')
		b.WriteString(p.Port)
	}
	return b.String()
}

// IsExact reports whether the pattern matches exactly one origin.
func (p Pattern) IsExact() bool { return !p.Subdomains && p.Port != "*" }

// SpansSites reports whether the pattern admits origins of more than one
// site: a subdomain wildcard over a public suffix, or over a domain with
// public suffixes below it. It names the suffix responsible.
func (p Pattern) SpansSites() (suffix string, spans bool) {
	if !p.Subdomains {
		return "", false
	}
	return SpansSites(p.Host)
}

// IsInsecure reports whether the pattern allows origins served over plain
// http, other than loopback ones, which browsers consider trustworthy.
func (p Pattern) IsInsecure() bool {
	return IsInsecure(p.Scheme, p.Host) && !(p.Subdomains && p.Host == "localhost")
}

// IsInsecure reports whether an origin of scheme and host is served over
// plain http from a host other than this machine's: with credentials, any
// network attacker could read its responses.
func IsInsecure(scheme, host string) bool {
	return scheme == "http" && !IsLoopback(host)
}

// isOpaqueScheme reports whether documents of the scheme have no
// serializable origin: browsers send "null" for them.
func isOpaqueScheme(scheme string) bool {
	switch scheme {
	case "file", "data", "blob", "javascript", "about":
		return true
	}
	return false
}

// ParsePattern validates and parses one allowed_origins entry other than
// "*" and "null".
func ParsePattern(s string) (Pattern, *PatternError) {
	i := strings.Index(s, "://")
	if i <= 0 {
		return fail(Malformed, "not of the form scheme://host[:port]")
	}
	scheme := s[:i]
	if schemeEnd(ascii.Lower(scheme)+":") != len(scheme) {
		return fail(Malformed, "invalid scheme")
	}
	if scheme != ascii.Lower(scheme) {
		return fail(NonCanonical, "the scheme must be lower case")
	}
	if isOpaqueScheme(scheme) {
		return fail(OpaqueScheme, "browsers send the origin of "+scheme+": documents as \"null\"")
	}
	rest := s[i+3:]
	if appScheme(scheme) {
		return appOrigin(scheme, rest)
	}
	if strings.ContainsAny(rest, "/?#") {
		return fail(NonCanonical, "an origin has no path, query, fragment or trailing slash")
	}
	if strings.Contains(rest, "@") {
		return fail(NonCanonical, "an origin has no userinfo")
	}
	host, port, hasPort := splitPatternHostPort(rest)
	p := Pattern{Scheme: scheme}
	if hasPort {
		switch {
		case port == "*":
		case port == "":
			return fail(Malformed, "empty port")
		case strings.Contains(port, "*"):
			return fail(MisplacedWildcard, "a port wildcard must be the whole port (\":*\")")
		default:
			n, ok := ascii.Atoi(port)
			if !ok || n < 1 || n > 65535 {
				return fail(Malformed, "the port must be a number from 1 to 65535")
			}
			if strconv.Itoa(n) != port {
				return fail(NonCanonical, "the port has leading zeros")
			}
			if port == DefaultPort(scheme) {
				return fail(NonCanonical, "the default port must be elided")
			}
		}
		p.Port = port
	}
	if strings.HasPrefix(host, "*.") {
		p.Subdomains = true
		host = host[2:]
	}
	if strings.Contains(host, "*") {
		return fail(MisplacedWildcard, "a wildcard is allowed only as a leading \"*.\" label or as the port (\":*\")")
	}
	if p.Subdomains && host != "" && (host[0] == '[' || allNumeric(host[strings.LastIndexByte(host, '.')+1:])) {
		return fail(MisplacedWildcard, "an IP address has no subdomains")
	}
	if d := checkHost(host); d != nil {
		return Pattern{}, d
	}
	p.Host = host
	return p, nil
}

func splitPatternHostPort(s string) (host, port string, hasPort bool) {
	if strings.HasPrefix(s, "[") {
		if j := strings.IndexByte(s, ']'); j >= 0 {
			if j+1 < len(s) && s[j+1] == ':' {
				return s[:j+1], s[j+2:], true
			}
			return s, "", false
		}
		return s, "", false
	}
	if j := strings.LastIndexByte(s, ':'); j >= 0 {
		return s[:j], s[j+1:], true
	}
	return s, "", false
}

// checkHost validates a host in canonical form: a lower-case ASCII domain,
// a canonical dotted IPv4 address, or a bracketed canonical IPv6 address.
func checkHost(host string) *PatternError {
	if host == "" {
		_, e := fail(Malformed, "empty host")
		return e
	}
	if host[0] == '[' {
		if host[len(host)-1] != ']' {
			_, e := fail(Malformed, "unterminated IPv6 address")
			return e
		}
		pieces, ok := parseIPv6(host[1 : len(host)-1])
		if !ok {
			_, e := fail(Malformed, "invalid IPv6 address")
			return e
		}
		if canonical := serializeIPv6(pieces); canonical != host[1:len(host)-1] {
			_, e := fail(NonCanonical, "browsers serialize this address as ["+canonical+"]")
			return e
		}
		return nil
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c >= 0x80:
			_, e := fail(NonCanonical, "the host must be ASCII: use its punycode (xn--) form")
			return e
		case 'A' <= c && c <= 'Z':
			_, e := fail(NonCanonical, "the host must be lower case")
			return e
		case !isHostChar(c):
			_, e := fail(Malformed, "invalid character in host (only a-z, 0-9, '-', '_' and '.')")
			return e
		}
	}
	if strings.HasSuffix(host, ".") {
		_, e := fail(NonCanonical, "the host has a trailing dot")
		return e
	}
	last := host[strings.LastIndexByte(host, '.')+1:]
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		_, e := fail(Malformed, "a final label in hex makes browsers read the host as an IPv4 address")
		return e
	}
	if allNumeric(last) {
		if !isIPv4(host) {
			_, e := fail(NonCanonical, "not a canonical IPv4 address (four decimal octets, no leading zeros)")
			return e
		}
		return nil
	}
	if len(host) > 253 {
		_, e := fail(Malformed, "the host is longer than 253 bytes")
		return e
	}
	for rest, more := host, true; more; {
		var l string
		l, rest, more = strings.Cut(rest, ".")
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			_, e := fail(Malformed, "invalid domain label \""+l+"\"")
			return e
		}
	}
	return nil
}

func allNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
