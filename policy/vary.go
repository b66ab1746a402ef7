package policy

import (
	"strings"
	"unsafe"

	"github.com/corsfilter/corsfilter/policy/internal/ascii"
	"github.com/corsfilter/corsfilter/policy/internal/headers"
)

// Bounds of MergeVary's merge: an upstream Vary beyond either is not
// merged member by member (see MergeVary).
const (
	maxVaryBytes   = 1024 // over all of the upstream's Vary lines
	maxVaryMembers = 32
)

// MergeVary returns the Vary value a response must carry: the members of
// its existing Vary header lines, in order, followed by those of tokens (a
// comma-separated list, as in Decision.Vary) that are not already there,
// compared case-insensitively. Members are trimmed, empty ones dropped, and
// all are joined with ", ". An existing "*" already varies on everything
// and is kept alone. When the one existing line already reads that way and
// lacks no token, MergeVary returns it as it is, without allocating.
//
// Its work is linear: each existing member is compared with the few
// tokens, never with the other existing members, so duplicates the
// upstream sent stay. And it is bounded: when the existing lines exceed
// 1,024 bytes or 32 members, MergeVary no longer compares their members
// with the tokens: it writes them and appends every token, even one
// that is there already. Both are correct for caches. Vary names
// the request fields that select the response, so a field named twice
// selects nothing more, and any "*" the upstream sent is still there. The
// alternative, answering "*" beyond the bound, would be wrong: a proxy must
// not generate "*", which also makes the response unusable for any later
// request.
//
// [RFC 9110 §12.5.5]: https://www.rfc-editor.org/rfc/rfc9110#section-12.5.5
func MergeVary(existing []string, tokens string) string {
	var buf []byte
	return mergeVary(&buf, existing, tokens)
}

// mergeVary is MergeVary writing a new value into *buf, which it reuses:
// the result then aliases *buf until the next call. When the one existing
// line reads as MergeVary writes, the usual case, it is copied whole
// rather than member by member: in wasm, each pass over the list costs
// more than the merge itself.
func mergeVary(buf *[]byte, existing []string, tokens string) string {
	if len(existing) == 0 && isCanonicalList(tokens) {
		// The usual case of a response without Vary: the decision's
		// tokens, which the policy wrote in canonical form, as they are.
		return tokens
	}
	size, members := 0, 0
	var found uint64                // bit t: the t-th token is among the existing members
	canonical := len(existing) == 1 // existing[0] reads as MergeVary writes
	for _, v := range existing {
		if size += len(v); size > maxVaryBytes {
			return joinVary(buf, existing, tokens, 0)
		}
		rest, more := v, true
		for first := true; more; first = false {
			var raw string
			raw, rest, more = cutComma(rest)
			m := ascii.TrimSpace(raw)
			// Written members are separated by ", " and nothing else.
			if m == "" || first && raw != m || !first && (len(raw) != len(m)+1 || raw[0] != ' ') {
				canonical = false
			}
			switch {
			case m == "":
				continue
			case m == "*":
				return "*"
			}
			if members++; members > maxVaryMembers {
				return joinVary(buf, existing, tokens, 0)
			}
			found |= tokenBits(tokens, m)
		}
	}
	if !canonical {
		return joinVary(buf, existing, tokens, found)
	}
	if !lacksToken(tokens, found) {
		return existing[0]
	}
	b := appendTokens(append((*buf)[:0], existing[0]...), tokens, found)
	*buf = b
	return unsafe.String(&b[0], len(b))
}

// appendMember appends a member to a Vary list being written.
func appendMember(b []byte, m string) []byte {
	if len(b) > 0 {
		b = append(b, ", "...)
	}
	return append(b, m...)
}

// appendTokens appends the tokens not in found, trimmed, empty ones dropped.
func appendTokens(b []byte, tokens string, found uint64) []byte {
	for t, rest, more := 0, tokens, true; more; t++ {
		var raw string
		raw, rest, more = cutComma(rest)
		if m := ascii.TrimSpace(raw); m != "" && !hasBit(found, t) {
			b = appendMember(b, m)
		}
	}
	return b
}

// isCanonicalList reports whether list reads as MergeVary writes: non-empty
// members without surrounding whitespace, separated by ", ".
func isCanonicalList(list string) bool {
	n := len(list)
	if n == 0 || isOWS(list[0]) || isOWS(list[n-1]) || list[0] == ',' || list[n-1] == ',' {
		return false
	}
	for i := 1; i < n-1; i++ {
		// "a, b": no whitespace before a comma, one space after it, and
		// then a member.
		if list[i] == ',' && (isOWS(list[i-1]) || list[i+1] != ' ' || i+2 >= n || isOWS(list[i+2]) || list[i+2] == ',') {
			return false
		}
	}
	return true
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// tokenBits returns the set of tokens (a comma-separated list) equal to
// member, case-insensitively: bit t for the t-th token, among the first 64.
func tokenBits(tokens, member string) uint64 {
	var bits uint64
	for t, rest, more := 0, tokens, true; more && t < 64; t++ {
		var raw string
		raw, rest, more = cutComma(rest)
		if ascii.EqualFold(ascii.TrimSpace(raw), member) {
			bits |= 1 << t
		}
	}
	return bits
}

// lacksToken reports whether some non-empty token is not in found.
func lacksToken(tokens string, found uint64) bool {
	for t, rest, more := 0, tokens, true; more; t++ {
		var raw string
		raw, rest, more = cutComma(rest)
		if ascii.TrimSpace(raw) != "" && !hasBit(found, t) {
			return true
		}
	}
	return false
}

// hasBit reports whether bit t of bits is set; there is none beyond 63.
func hasBit(bits uint64, t int) bool { return t < 64 && bits&(1<<t) != 0 }

// joinVary writes into *buf the members of the existing lines, then the
// tokens not in found, each trimmed, empty ones dropped, joined with ", ",
// and returns them as a string that aliases *buf.
func joinVary(buf *[]byte, existing []string, tokens string, found uint64) string {
	b := (*buf)[:0]
	for _, v := range existing {
		b = appendTokens(b, v, 0)
	}
	b = appendTokens(b, tokens, found)
	*buf = b
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// IsUpstreamCORSHeader reports whether a response header is one the filter
// owns on a governed route: any Access-Control-* header, in any case. The
// filter removes these from the upstream's response, a denied preflight it
// forwards included, so that the policy alone decides what a browser may
// read and how long it caches a preflight (Access-Control-Max-Age), a
// permissive upstream never widens the policy, and the browser never sees
// two Access-Control-Allow-Origin values.
func IsUpstreamCORSHeader(name string) bool {
	const prefix = "access-control-"
	return len(name) > len(prefix) && name[0]|0x20 == 'a' && ascii.EqualFold(name[:len(prefix)], prefix)
}

// IsVaryHeader reports whether a response header name is Vary, in any case.
func IsVaryHeader(name string) bool {
	return len(name) == len(headers.Vary) && ascii.EqualFold(name, headers.Vary)
}

// cutComma is strings.Cut(s, ","), with strings.IndexByte, which runs in
// assembly: in wasm, strings.Cut's generic search costs three calls, and a
// Go loop a jump through the function's dispatch table per byte.
func cutComma(s string) (before, after string, found bool) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// Edits are what the filter does to the headers of a forwarded response on
// a governed route, in order: remove every value of each header in Remove,
// then set each header in Set, replacing any value. They take the CORS
// headers from the upstream, put the decision's in, and leave one Vary that
// merges the upstream's with the decision's.
type Edits struct {
	Remove []string // lower-case or as the upstream wrote them, each once in a row
	Set    []Header
	// Overridden: the upstream sent CORS headers, which are removed.
	Overridden bool

	varyIn []string
	vary   []byte
}

// Response writes into e the edits of a forwarded response whose headers are
// upstream, when d forwards the request under enforcement. e is reused
// from call to call: after the first few responses, Response allocates
// nothing, and its strings alias e and upstream until the next call.
func (d *Decision) Response(upstream []Header, e *Edits) {
	e.Remove, e.Set, e.Overridden, e.varyIn = e.Remove[:0], e.Set[:0], false, e.varyIn[:0]
	for _, h := range upstream {
		switch {
		case IsUpstreamCORSHeader(h.Name):
			e.Overridden = true
			// Removing a header removes all its values: once is enough,
			// and a repeated line of the same name usually follows its
			// first.
			if n := len(e.Remove); n == 0 || !ascii.EqualFold(e.Remove[n-1], h.Name) {
				e.Remove = append(e.Remove, h.Name)
			}
		case IsVaryHeader(h.Name):
			e.varyIn = append(e.varyIn, h.Value)
		}
	}
	if d.nHeaders > 0 {
		e.Set = append(e.Set, d.Headers()...)
		if len(e.Remove) > 0 {
			e.Remove = keepNeeded(e.Remove, d.Headers(), upstream)
		}
	}
	if d.Vary == "" {
		return
	}
	if len(e.varyIn) == 0 && (d.Vary == "Origin" || isCanonicalList(d.Vary)) {
		// The usual case, spelled out to save calls: the decision's
		// tokens, which the policy writes in canonical form, as they
		// are. "Origin" is the Vary of every actual and not-CORS
		// response that depends on the origin.
		e.Set = append(e.Set, Header{Name: headers.Vary, Value: d.Vary})
		return
	}
	merged := mergeVary(&e.vary, e.varyIn, d.Vary)
	switch {
	case len(e.varyIn) == 1 && merged == e.varyIn[0]:
		// The upstream's one Vary line says it all already.
	case len(e.varyIn) > 1:
		e.Remove = append(e.Remove, headers.Vary)
		fallthrough
	default:
		e.Set = append(e.Set, Header{Name: headers.Vary, Value: merged})
	}
}

// Reply returns the headers of the local reply when d responds: the
// decision's CORS headers, then Vary. It appends to dst.
func (d *Decision) Reply(dst []Header) []Header {
	if d.nHeaders > 0 {
		// Not even an empty copy: a denied preflight has no other header.
		dst = append(dst, d.Headers()...)
	}
	if d.Vary != "" {
		dst = append(dst, Header{Name: headers.Vary, Value: d.Vary})
	}
	return dst
}

// Apply returns a copy of hs with the edits made as a proxy makes them:
// each name in Remove loses every value, then each header in Set replaces
// the first of its name, whose other values go, or is appended. Names are
// compared case-insensitively. corsctl uses it to show a forwarded
// response as the client receives it.
func (e *Edits) Apply(hs []Header) []Header {
	out := make([]Header, 0, len(hs)+len(e.Set))
	for _, h := range hs {
		removed := false
		for _, name := range e.Remove {
			removed = removed || ascii.EqualFold(h.Name, name)
		}
		if !removed {
			out = append(out, h)
		}
	}
	for _, s := range e.Set {
		found := false
		kept := out[:0]
		for _, h := range out {
			if ascii.EqualFold(h.Name, s.Name) {
				if found {
					continue
				}
				found, h.Value = true, s.Value
			}
			kept = append(kept, h)
		}
		out = kept
		if !found {
			out = append(out, s)
		}
	}
	return out
}

// keepNeeded drops from remove the names that set replaces and that the
// upstream sent on one line: replacing a header replaces its first line
// (Envoy's setCopy), and there is no other to remove. A permissive
// upstream's one Access-Control-Allow-Origin then costs one host call, not
// two. A name sent on several lines stays, so that none of them survives.
func keepNeeded(remove []string, set, upstream []Header) []string {
	kept := remove[:0]
	for _, name := range remove {
		if !replaces(set, name) || lines(upstream, name) > 1 {
			kept = append(kept, name)
		}
	}
	return kept
}

func replaces(set []Header, name string) bool {
	for _, h := range set {
		if ascii.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

func lines(hs []Header, name string) int {
	n := 0
	for _, h := range hs {
		if ascii.EqualFold(h.Name, name) {
			n++
		}
	}
	return n
}
