package headers

import "strings"

// The CORS protocol's header names, in lower case as HTTP/2 carries them.
//
// [Fetch §HTTP responses]: https://fetch.spec.whatwg.org/#http-responses
const (
	Origin = "origin"
	// ACRM is Access-Control-Request-Method.
	ACRM = "access-control-request-method"
	// ACRH is Access-Control-Request-Headers.
	ACRH = "access-control-request-headers"
	// ACRPN is Access-Control-Request-Private-Network.
	ACRPN = "access-control-request-private-network"
	// ACAO is Access-Control-Allow-Origin.
	ACAO = "access-control-allow-origin"
	// ACAC is Access-Control-Allow-Credentials.
	ACAC = "access-control-allow-credentials"
	// ACAM is Access-Control-Allow-Methods.
	ACAM = "access-control-allow-methods"
	// ACAH is Access-Control-Allow-Headers.
	ACAH = "access-control-allow-headers"
	// ACMA is Access-Control-Max-Age.
	ACMA = "access-control-max-age"
	// ACEH is Access-Control-Expose-Headers.
	ACEH = "access-control-expose-headers"
	// ACAPN is Access-Control-Allow-Private-Network.
	ACAPN = "access-control-allow-private-network"
	// Vary is the Vary response header.
	Vary = "vary"
	// Debug is the filter's own header carrying the reason of a denied
	// preflight when the debug option is on.
	Debug = "x-cors-debug"
)

// Limits on Access-Control-Request-Headers, so that a hostile request costs
// bounded work ([rs/cors#170]). Browsers send a sorted, lower-case,
// comma-separated list without spaces, far below these limits.
//
// [rs/cors#170]: https://github.com/rs/cors/issues/170
const (
	MaxACRHLength = 4096 // bytes over all header lines
	MaxElements   = 256  // header names
	MaxEmpty      = 16   // empty list elements
	MaxOWS        = 2    // optional whitespace bytes on each side of a name
	MaxNameLength = 256  // one header name
)

// IsToken reports whether s is an RFC 9110 token, the syntax of header names
// and methods.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// Classes of bytes in tchars.
const (
	tchar = 1 << iota // allowed in an RFC 9110 token
	upper             // an upper-case letter (also a tchar)
)

// tchars classifies every byte, so that scanning a token takes one table
// load per byte.
var tchars = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0 {
			t[c] = tchar
		} else if 'A' <= c && c <= 'Z' {
			t[c] = tchar | upper
		}
	}
	return t
}()

func isTchar(c byte) bool { return tchars[c] != 0 }

// isForbiddenName reports whether a lower-case name is one of Fetch's
// forbidden request-header names: scripts cannot set them, so a browser
// never asks for them in a preflight.
//
// [Fetch §forbidden request-header]: https://fetch.spec.whatwg.org/#forbidden-request-header
func isForbiddenName(name string) bool {
	switch name {
	case "accept-charset", "accept-encoding", ACRH, ACRM, "connection", "content-length",
		"cookie", "cookie2", "date", "dnt", "expect", "host", "keep-alive", Origin, "referer",
		"set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via":
		return true
	}
	return false
}

// IsForbiddenRequest reports whether a lower-case name is a forbidden
// request-header name (including the Proxy- and Sec- prefixes).
func IsForbiddenRequest(name string) bool {
	return isForbiddenName(name) || strings.HasPrefix(name, "proxy-") || strings.HasPrefix(name, "sec-")
}

// IsForbiddenResponse reports whether a lower-case name is a forbidden
// response-header name, which scripts can never read.
//
// [Fetch §forbidden response-header name]: https://fetch.spec.whatwg.org/#forbidden-response-header-name
func IsForbiddenResponse(name string) bool {
	return name == "set-cookie" || name == "set-cookie2"
}

// IsSafelistedResponse reports whether a lower-case name is a CORS-safelisted
// response-header name, which scripts can always read.
//
// [Fetch §CORS-safelisted response-header name]: https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name
func IsSafelistedResponse(name string) bool {
	switch name {
	case "cache-control", "content-language", "content-length", "content-type",
		"expires", "last-modified", "pragma":
		return true
	}
	return false
}
