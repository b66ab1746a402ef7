package importer

import (
	"regexp"
	"strconv"
	"strings"
)

// stringMatch is Envoy's StringMatcher and Istio's StringMatch, as both
// match an Origin header.
type stringMatch struct {
	exact, prefix, suffix, contains, regex *string
	ignoreCase                             bool
}

// hostSuffix is a suffix that is a host name's tail: ".example.com" or
// "example.com".
var hostSuffix = regexp.MustCompile(`^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// origin converts one origin matcher into allowed_origins entries or
// allowed_origin_regexes, reporting what changes meaning.
func (c *converter) origin(r *Rule, m stringMatch, where string) {
	if m.ignoreCase {
		c.change(where, "ignore_case dropped: browsers send the scheme and host of an Origin in lower case, and origins here are compared as sent")
	}
	switch {
	case m.exact != nil:
		c.exactOrigin(r, *m.exact, where)
	case m.prefix != nil:
		p := *m.prefix
		if p == "" || p == "*" {
			r.AllowedOrigins = appendNew(r.AllowedOrigins, "*")
			c.change(where, "prefix %q matches every Origin: written \"*\"", p)
			return
		}
		re := "^" + regexp.QuoteMeta(p) + ".*$"
		r.AllowedOriginRegexes = appendNew(r.AllowedOriginRegexes, re)
		c.change(where, "prefix %q is not label-aware: it also matches %q and any port; written as the regex %s, which the policy proves to stay within one site (refused with credentials, warned without)", p, strings.TrimSuffix(p, "/")+".attacker.example", re)
	case m.suffix != nil:
		s := strings.ToLower(*m.suffix)
		if hostSuffix.MatchString(s) {
			base := strings.TrimPrefix(s, ".")
			r.AllowedOrigins = appendNew(r.AllowedOrigins, "https://*."+base)
			if !strings.HasPrefix(s, ".") {
				r.AllowedOrigins = appendNew(r.AllowedOrigins, "https://"+base)
				c.change(where, "suffix %q is not label-aware: it also matches https://evil%s; written https://%s and https://*.%s (the site and its subdomains) only", s, s, base, base)
			} else {
				c.change(where, "suffix %q written https://*.%s", s, base)
			}
			c.change(where, "suffix %q also matched http:// origins and any other scheme; only https is written: add http:// origins by name if you need them", s)
			return
		}
		re := "^.*" + regexp.QuoteMeta(*m.suffix) + "$"
		r.AllowedOriginRegexes = appendNew(r.AllowedOriginRegexes, re)
		c.change(where, "suffix %q is not label-aware: written as the regex %s, which the policy proves to stay within one site", *m.suffix, re)
	case m.contains != nil:
		re := "^.*" + regexp.QuoteMeta(*m.contains) + ".*$"
		r.AllowedOriginRegexes = appendNew(r.AllowedOriginRegexes, re)
		c.change(where, "contains %q written as the regex %s, which the policy proves to stay within one site", *m.contains, re)
	case m.regex != nil:
		src := *m.regex
		if src == ".*" || src == ".+" {
			r.AllowedOrigins = appendNew(r.AllowedOrigins, "*")
			c.change(where, "regex %q matches every Origin: written \"*\"", src)
			return
		}
		re := src
		if !strings.HasPrefix(re, "^") || !strings.HasSuffix(re, "$") {
			re = "^(?:" + src + ")$"
		}
		r.AllowedOriginRegexes = appendNew(r.AllowedOriginRegexes, re)
		c.change(where, "regex %q: Envoy matches RE2 against the whole Origin; written %s, for the policy's RE2 subset, which must also be proven to stay within one site (with credentials) or is warned about as \"*\" is (without)", src, re)
	default:
		c.change(where, "an empty matcher matches nothing: dropped")
	}
}

// exactOrigin adds an exact origin, in the form browsers send.
func (c *converter) exactOrigin(r *Rule, o, where string) {
	if o == "*" {
		r.AllowedOrigins = appendNew(r.AllowedOrigins, "*")
		return
	}
	canon := canonicalOrigin(o)
	if canon != o {
		c.change(where, "%q written %q, the form browsers send", o, canon)
	}
	r.AllowedOrigins = appendNew(r.AllowedOrigins, canon)
}

// canonicalOrigin lower-cases an origin's scheme and host, and drops a
// default port and a trailing slash; "*." and ":*" wildcards are kept.
func canonicalOrigin(o string) string {
	o = strings.TrimSuffix(o, "/")
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok {
		return o
	}
	scheme = strings.ToLower(scheme)
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
	}
	host = strings.ToLower(host)
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	if port != "" {
		return scheme + "://" + host + ":" + port
	}
	return scheme + "://" + host
}

// normalizedMethods are the methods browsers upper-case (Fetch §normalize).
var normalizedMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"}

// methods converts an allow-methods list: GET, HEAD and POST need no
// listing; methods browsers upper-case are written so.
func (c *converter) methods(r *Rule, list []string, where string) {
	for _, m := range list {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		for _, n := range normalizedMethods {
			if strings.EqualFold(m, n) && m != n {
				c.change(where, "method %q written %q: browsers send it in upper case", m, n)
				m = n
			}
		}
		switch strings.ToUpper(m) {
		case "GET", "HEAD", "POST":
			continue // always allowed: browsers send them without a preflight
		case "CONNECT", "TRACE", "TRACK":
			c.change(where, "method %q dropped: browsers never let scripts send it", m)
			continue
		}
		r.AllowedMethods = appendNew(r.AllowedMethods, m)
	}
	if r.AllowedMethods == nil {
		r.AllowedMethods = []string{}
	}
}

// headers converts an allow-headers or expose-headers list.
func headers(list []string) []string {
	out := []string{}
	for _, h := range list {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			out = appendNew(out, h)
		}
	}
	return out
}

// splitList splits Envoy's comma-separated lists.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// maxAge sets max_age_seconds from seconds, capped at 86400.
func (c *converter) maxAge(r *Rule, secs int64, where string) {
	if secs > 86400 {
		c.change(where, "%d seconds capped at 86400, Firefox's cap (Chromium caps at 7200)", secs)
		secs = 86400
	}
	if secs < 0 {
		secs = 0
	}
	n := int(secs)
	r.MaxAgeSeconds = &n
}

// credentialsNotes reports what changes with credentials.
func (c *converter) credentialsNotes(r *Rule, where string) {
	if !r.AllowCredentials {
		return
	}
	for _, h := range r.AllowedRequestHeaders {
		if h == "*" {
			c.change(where, "allowHeaders \"*\" with credentials: here it allows any requested header but Authorization, which must be listed by name")
		}
	}
}

// hostMatch returns the hosts to match, or nil (with a report) when one
// cannot be matched on here: a bare "*", a port, or a wildcard other than a
// leading "*.".
func (c *converter) hostMatch(hosts []string, where string) []string {
	var out []string
	for _, h := range hosts {
		h = strings.ToLower(h)
		if h == "*" {
			return nil
		}
		if host, port, ok := strings.Cut(h, ":"); ok && !strings.Contains(host, "[") {
			if _, err := strconv.Atoi(port); err == nil || port == "*" {
				c.change(where, "host %q: the port is dropped (match.hosts compares the host only)", h)
				h = host
			}
		}
		rest := strings.TrimPrefix(h, "*.")
		if strings.Contains(rest, "*") || !strings.Contains(rest, ".") && rest != "localhost" {
			c.change(where, "host %q cannot be matched here (a wildcard other than a leading \"*.\", or a short mesh name): the rules match every host", h)
			return nil
		}
		out = appendNew(out, h)
	}
	return out
}

func appendNew(list []string, s string) []string {
	for _, e := range list {
		if e == s {
			return list
		}
	}
	return append(list, s)
}
