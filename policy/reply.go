package policy

import (
	"github.com/corsfilter/corsfilter/internal/streq"
	"github.com/corsfilter/corsfilter/policy/internal/ascii"
)

// LocalReply writes into e the edits of the filter's own local reply, as
// the response path hands it back to the filter, when d responds (Action
// Respond) under enforcement. reply is that response's headers.
//
// Envoy builds a local reply by applying the route's and the virtual host's
// response_headers_to_add first, then the filter's headers, and it keeps
// the CORS response headers inline, joining a repeated one into one value.
// So a route that adds "Access-Control-Allow-Origin: *" turns the reply's
// "https://app.example.com" into "*,https://app.example.com", or adds it
// to a denied preflight's 403. The filter owns the CORS headers of its
// replies as of its forwarded responses: every Access-Control-* header that
// is not exactly one of the decision's (name, case-insensitively, and
// value) is removed, with every value of its name, and the decision's
// headers of the names removed, or missing, are set again. Headers that are
// not Access-Control-* (Vary, x-cors-debug) are left as they are. When the
// reply comes back as it was sent, e is empty. Overridden says that some
// header was removed.
//
// e is reused from call to call, as by Response. Precondition: the values
// d echoes from the request outlive its buffers (see Detach).
func (d *Decision) LocalReply(reply []Header, e *Edits) {
	e.Remove, e.Set, e.Overridden, e.varyIn = e.Remove[:0], e.Set[:0], false, e.varyIn[:0]
	own := d.Headers()
	if cameBack(reply, own) {
		return
	}
	localReplyEdits(reply, own, e)
}

// localReplyEdits is LocalReply's full path, for a reply whose CORS headers
// are not own's as sent.
func localReplyEdits(reply, own []Header, e *Edits) {
	var found uint16 // bit i: own[i] came back once, as sent
	for _, h := range reply {
		if !IsUpstreamCORSHeader(h.Name) {
			continue
		}
		if i := indexOwn(own, h, found); i >= 0 {
			found |= 1 << i
			continue
		}
		e.Overridden = true
		if !containsFold(e.Remove, h.Name) {
			e.Remove = append(e.Remove, h.Name)
		}
	}
	for i, h := range own {
		if IsUpstreamCORSHeader(h.Name) && (found&(1<<i) == 0 || containsFold(e.Remove, h.Name)) {
			e.Set = append(e.Set, h)
		}
	}
}

// indexOwn returns the index in own of the header h is, not yet found, or
// -1.
func indexOwn(own []Header, h Header, found uint16) int {
	for i, o := range own {
		if found&(1<<i) == 0 && o.Value == h.Value && ascii.EqualFold(o.Name, h.Name) {
			return i
		}
	}
	return -1
}

// containsFold reports whether names holds name, case-insensitively.
func containsFold(names []string, name string) bool {
	for _, n := range names {
		if ascii.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// cameBack reports whether the CORS headers of reply are exactly own's, in
// the order sent, as when no route adds any: the usual case, checked with
// few calls, which cost in wasm. Every header of reply or own that may be
// a CORS header (see maybeCORS) must pair with the next such header of the
// other, name and value. own's names are lower case, as hosts hand names
// over; a name in another case takes LocalReply's full path.
func cameBack(reply, own []Header) bool {
	j := 0
	for i := range reply {
		if !maybeCORS(reply[i].Name) {
			continue
		}
		for j < len(own) && !maybeCORS(own[j].Name) {
			j++
		}
		if j == len(own) || !streq.Equal(reply[i].Name, own[j].Name) || !streq.Equal(reply[i].Value, own[j].Value) {
			return false
		}
		j++
	}
	for ; j < len(own); j++ {
		if maybeCORS(own[j].Name) {
			return false
		}
	}
	return true
}

// maybeCORS is a test that IsUpstreamCORSHeader passes, and that most other
// names fail without a call: longer than "access-control-", starting with
// 'a' or 'A'.
func maybeCORS(name string) bool {
	return len(name) > len("access-control-") && name[0]|0x20 == 'a'
}
