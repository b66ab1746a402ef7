package methods

import "github.com/corsfilter/corsfilter/policy/internal/ascii"

// MaxLength bounds the length of a requested method that a wildcard ("*")
// can allow. No registered method comes near it (the longest,
// UPDATEREDIRECTREF, has 17 bytes); the bound keeps a hostile
// Access-Control-Request-Method from being scanned and echoed whole.
const MaxLength = 64

// IsSafelisted reports whether m is a CORS-safelisted method (GET, HEAD or
// POST, byte for byte), which never needs Access-Control-Allow-Methods.
//
// [Fetch §CORS-safelisted method]: https://fetch.spec.whatwg.org/#cors-safelisted-method
func IsSafelisted(m string) bool {
	return m == "GET" || m == "HEAD" || m == "POST"
}

// IsForbidden reports whether m is a forbidden method (CONNECT, TRACE or
// TRACK, in any case): scripts can never send it.
//
// [Fetch §forbidden method]: https://fetch.spec.whatwg.org/#forbidden-method
func IsForbidden(m string) bool {
	return ascii.EqualFold(m, "CONNECT") || ascii.EqualFold(m, "TRACE") || ascii.EqualFold(m, "TRACK")
}

// Normalized returns the form in which a browser sends m: DELETE, GET, HEAD,
// OPTIONS, POST and PUT are upper-cased, any other method is sent as
// written.
//
// [Fetch §normalize a method]: https://fetch.spec.whatwg.org/#concept-method-normalize
func Normalized(m string) string {
	for _, n := range [...]string{"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"} {
		if ascii.EqualFold(m, n) {
			return n
		}
	}
	return m
}
