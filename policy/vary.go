package policy

import (
	"strings"

	"github.com/corsfilter/corsfilter/policy/internal/ascii"
	"github.com/corsfilter/corsfilter/policy/internal/headers"
)

// MergeVary returns the Vary value a response must carry: the tokens of its
// existing Vary header lines followed by those of tokens (a comma-separated
// list, as in Decision.Vary) that are not already there, compared
// case-insensitively. An existing "*" already varies on everything and is
// kept alone.
//
// [RFC 9110 §12.5.5]: https://www.rfc-editor.org/rfc/rfc9110#section-12.5.5
func MergeVary(existing []string, tokens string) string {
	var out []string
	has := func(t string) bool {
		for _, o := range out {
			if ascii.EqualFold(o, t) {
				return true
			}
		}
		return false
	}
	add := func(list string) bool {
		for _, t := range strings.Split(list, ",") {
			t = ascii.TrimSpace(t)
			if t == "*" {
				return false
			}
			if t != "" && !has(t) {
				out = append(out, t)
			}
		}
		return true
	}
	for _, v := range existing {
		if !add(v) {
			return "*"
		}
	}
	add(tokens)
	return strings.Join(out, ", ")
}

// IsUpstreamCORSHeader reports whether a response header is one the filter
// owns on a governed route: any Access-Control-Allow-* header, or
// Access-Control-Expose-Headers. The filter removes these from the
// upstream's response so that a permissive upstream never widens the policy
// and the browser never sees two Access-Control-Allow-Origin values.
func IsUpstreamCORSHeader(name string) bool {
	const allow, expose = "access-control-allow-", "access-control-expose-headers"
	return len(name) > len(allow) && ascii.EqualFold(name[:len(allow)], allow) ||
		ascii.EqualFold(name, expose)
}

// IsVaryHeader reports whether a response header name is Vary, in any case.
func IsVaryHeader(name string) bool { return ascii.EqualFold(name, headers.Vary) }
