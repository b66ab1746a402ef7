package origins

import (
	"strings"

	"github.com/corsfilter/corsfilter/policy/internal/ascii"
)

// Origins of apps and browser extensions: schemes that are not http(s) but
// whose documents browsers give a real, serializable origin, sent in Origin.
// Each is accepted exactly, never with a wildcard: an extension id or an
// app's scheme is one principal, and "any extension" or "any app" is an
// open door.

// appScheme reports whether scheme is one of the app and extension schemes.
func appScheme(scheme string) bool {
	switch scheme {
	case "chrome-extension", "moz-extension", "safari-web-extension", "capacitor", "ionic":
		return true
	}
	return false
}

// appOrigin parses the rest of an app or extension origin after
// "scheme://": its host in the form the browser or web view sends, with no
// port, path or wildcard.
func appOrigin(scheme, host string) (Pattern, *PatternError) {
	if strings.Contains(host, "*") {
		return fail(MisplacedWildcard, scheme+" origins are exact: list each extension or app, without wildcards")
	}
	if strings.ContainsAny(host, "/?#@:") {
		return fail(NonCanonical, "a "+scheme+" origin is "+scheme+"://"+appHostForm(scheme)+", with no port, path, query or trailing slash")
	}
	ok := false
	switch scheme {
	case "chrome-extension":
		// Chromium's extension ids: 32 letters a to p.
		ok = len(host) == 32 && strings.IndexFunc(host, func(c rune) bool { return c < 'a' || c > 'p' }) < 0
	case "moz-extension":
		// Firefox's per-install internal UUID, lower case.
		ok = isUUID(host, false)
	case "safari-web-extension":
		// Safari's per-install UUID, which it sends in upper case.
		ok = isUUID(host, true)
	case "capacitor", "ionic":
		// The web view's host name, "localhost" unless the app sets
		// another.
		ok = host != "" && checkHost(host) == nil && !strings.HasPrefix(host, "[")
	}
	if !ok {
		if host != "" && host != ascii.Lower(host) && scheme != "safari-web-extension" {
			return fail(NonCanonical, "the host must be lower case, as the browser sends it")
		}
		return fail(Malformed, "not a "+scheme+" origin: want "+scheme+"://"+appHostForm(scheme))
	}
	return Pattern{Scheme: scheme, Host: host}, nil
}

func appHostForm(scheme string) string {
	switch scheme {
	case "chrome-extension":
		return "<32-letter extension id, a to p>"
	case "moz-extension":
		return "<lower-case UUID>"
	case "safari-web-extension":
		return "<upper-case UUID>"
	}
	return "localhost"
}

// isUUID reports whether s is a UUID in 8-4-4-4-12 hex form, of the one
// case given.
func isUUID(s string, upper bool) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9':
		case !upper && 'a' <= c && c <= 'f', upper && 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}
