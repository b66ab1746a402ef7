package origins

import (
	"strings"

	"github.com/corsfilter/corsfilter/policy/internal/psl"
)

// Site returns the site a host (lower case, without a trailing dot) belongs
// to, the unit a browser origin's owner controls: its registrable domain by
// the Public Suffix List (eTLD+1), "localhost" for localhost and its
// subdomains (RFC 6761 reserves them for loopback), or the host itself,
// with exact set, when it has no registrable domain: an IP address, or a
// host that is itself a public suffix.
func Site(host string) (site string, exact bool) {
	switch {
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return "localhost", false
	case host == "" || host[0] == '[' || allNumeric(host[strings.LastIndexByte(host, '.')+1:]):
		return host, true
	}
	if d, ok := psl.Registrable(host); ok {
		return d, false
	}
	return host, true
}

// SpansSites reports whether the hosts under domain ("*." + domain) belong
// to more than one site, and names the public suffix responsible: domain
// itself, or a suffix listed below it ("s3.amazonaws.com" below
// "amazonaws.com"), where anyone can register a name.
func SpansSites(domain string) (suffix string, spans bool) {
	if domain == "localhost" {
		return "", false
	}
	if psl.IsPublicSuffix(domain) {
		return domain, true
	}
	psl.Below(domain, func(s string, wildcard bool) bool {
		suffix, spans = s, true
		if wildcard {
			suffix = "*." + s
		}
		return false
	})
	return suffix, spans
}
