package policy

import (
	"github.com/corsfilter/corsfilter/policy/internal/ascii"
	"strings"

	"github.com/corsfilter/corsfilter/policy/internal/headers"
	"github.com/corsfilter/corsfilter/policy/internal/methods"
	"github.com/corsfilter/corsfilter/policy/internal/origins"
)

// Reasons given in Decision.Reason. They are constants, so deciding
// allocates nothing, and they never contain request data.
const (
	reasonUnmatched       = "no rule matched: the request is not governed"
	reasonOff             = "the rule's mode is off"
	reasonNotCORS         = "no Origin header: not a CORS request"
	reasonSameOrigin      = "same-origin request: CORS does not apply"
	reasonOrigin          = "origin not allowed"
	reasonMalformedOrigin = "malformed, oversized or repeated Origin header"
	reasonMethod          = "method not allowed"
	reasonHeaders         = "request headers not allowed"
	reasonBadHeaders      = "malformed or oversized Access-Control-Request-Headers"
	reasonPrivateNetwork  = "private network access not allowed"
	reasonPreflightOK     = "preflight allowed"
	reasonActualOK        = "origin allowed"
)

// Bodies of the local replies: short and generic, so that they disclose
// nothing about the policy.
const (
	deniedPreflightBody = "CORS preflight denied\n"
	deniedRequestBody   = "cross-origin request denied\n"
)

// Decide classifies r as the Fetch standard does, selects the first rule
// that governs it, and returns what to do. It allocates nothing on the
// paths browsers exercise.
//
// [Fetch §CORS protocol]: https://fetch.spec.whatwg.org/#http-cors-protocol
func (p *Policy) Decide(r *Request) Decision {
	var d Decision
	p.DecideInto(r, &d)
	return d
}

// DecideInto is Decide writing into d, which it resets first: a filter
// deciding one request after another into the same Decision copies and
// clears none of its storage, which costs a not-CORS decision a third of
// its time natively, and more in wasm.
func (p *Policy) DecideInto(r *Request, d *Decision) {
	d.reset()
	p.decide(r, d)
}

func (p *Policy) decide(r *Request, d *Decision) {
	d.Kind, d.RuleIndex = classify(r), -1
	method := r.Method
	if d.Kind == Preflight {
		// A preflight stands for the request it announces.
		method = r.ACRM[0]
	}
	i := 0 // a catch-all first rule, as in a policy without rules: no call
	if len(p.rules) == 0 || !p.rules[0].match.catchAll() {
		i = p.selectRule(r, method)
	}
	if i < 0 {
		d.Outcome, d.Reason = OutcomeUnmatched, reasonUnmatched
		return
	}
	ru := &p.rules[i]
	d.Rule, d.RuleIndex = ru.name, i
	if ru.cand != nil {
		ru.decideWithCandidate(r, d)
		return
	}
	ru.apply(r, d)
}

// apply decides r under the rule, once selected: d holds its Kind and the
// rule's name.
func (ru *rule) apply(r *Request, d *Decision) {
	switch ru.mode {
	case modeOff:
		d.Outcome, d.Reason = OutcomeOff, reasonOff
		return
	case modeReportOnly:
		d.ReportOnly = true
	}
	switch d.Kind {
	case Preflight:
		ru.preflight(r, d)
	case Actual:
		ru.actual(r, d)
	default:
		d.Action, d.Outcome, d.Reason, d.Vary = Forward, OutcomeNotCORS, reasonNotCORS, ru.varyActual
		if ru.staticAny {
			// A static answer goes on every response, CORS or not, so that
			// a cache may serve one response to all.
			//
			// [Fetch §CORS protocol and HTTP caches]: https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches
			ru.addACAO(d, "")
			if ru.aceh != "" {
				d.addHeader(headers.ACEH, ru.aceh)
			}
		}
	}
}

// classify sorts a request as Fetch does: no Origin means not CORS; OPTIONS
// with Origin and Access-Control-Request-Method is a preflight; anything
// else with Origin is an actual request. An OPTIONS request without
// Access-Control-Request-Method is an ordinary request.
func classify(r *Request) Kind {
	switch {
	case len(r.Origin) == 0:
		return NotCORS
	case r.Method == "OPTIONS" && len(r.ACRM) > 0:
		return Preflight
	default:
		return Actual
	}
}

func (p *Policy) selectRule(r *Request, method string) int {
	for i := range p.rules {
		// A catch-all, the usual last or only rule, is known without a
		// call.
		if m := p.rules[i].match; m.catchAll() || m.matches(r, method) {
			return i
		}
	}
	return -1
}

// preflight decides a CORS-preflight request, checking origin, method,
// headers and private network access in that order, as Fetch does.
//
// [Fetch §CORS-preflight fetch]: https://fetch.spec.whatwg.org/#cors-preflight-fetch-0
func (ru *rule) preflight(r *Request, d *Decision) {
	d.Vary = ru.varyPreflight
	origin, ok := singleOrigin(r)
	if !ok {
		ru.deny(d, OutcomePreflightDeniedOrigin, reasonMalformedOrigin)
		return
	}
	var po parsedOrigin
	if !ru.allowsOrigin(origin, &po) && !ru.granted(r, origin, r.ACRM[0], d) {
		ru.deny(d, OutcomePreflightDeniedOrigin, grantReason(d, reasonOrigin))
		return
	}
	if len(r.ACRM) != 1 || !ru.allowsMethod(r.ACRM[0]) {
		ru.deny(d, OutcomePreflightDeniedMethod, reasonMethod)
		return
	}
	method := r.ACRM[0]
	reason, canonical := ru.checkHeaders(r.ACRH)
	if reason != "" {
		ru.deny(d, OutcomePreflightDeniedHeaders, reason)
		return
	}
	pna := wantsPrivateNetwork(r.ACRPN)
	if pna && !ru.privateNetwork {
		ru.deny(d, OutcomePreflightDeniedPrivateNetwork, reasonPrivateNetwork)
		return
	}

	d.Action, d.Outcome, d.Reason = Respond, OutcomePreflightAllowed, reasonPreflightOK
	d.Status = ru.preflightStatus
	ru.addACAO(d, origin)
	if !methods.IsSafelisted(method) {
		// Echo the one requested method: it is valid with and without
		// credentials, and discloses nothing else.
		d.addEcho(headers.ACAM, method)
	}
	if canonical {
		d.addEcho(headers.ACAH, r.ACRH[0])
	} else if acah := normalizedHeaders(r.ACRH); acah != "" {
		d.addHeader(headers.ACAH, acah)
	}
	if ru.acma != "" {
		d.addHeader(headers.ACMA, ru.acma)
	}
	if pna {
		d.addHeader(headers.ACAPN, "true")
	}
}

// deny records a denied preflight: 403 without any CORS header (or
// forwarded, when forward_denied_preflights is set).
func (ru *rule) deny(d *Decision, o Outcome, reason string) {
	d.Outcome, d.Reason = o, reason
	if ru.forwardDenied {
		d.Action = Forward
	} else {
		d.Action, d.Status, d.Body = Respond, 403, deniedPreflightBody
	}
	if ru.debug {
		d.addHeader(headers.Debug, reason)
	}
}

// actual decides an actual CORS request.
func (ru *rule) actual(r *Request, d *Decision) {
	d.Vary = ru.varyActual
	d.Action = Forward
	origin, ok := singleOrigin(r)
	var po parsedOrigin // parsed at most once, for patterns and same-origin detection
	switch {
	case ok && (ru.allowsOrigin(origin, &po) || ru.granted(r, origin, r.Method, d)):
		d.Outcome, d.Reason = OutcomeActualAllowed, reasonActualOK
		ru.addACAO(d, origin)
		if ru.aceh != "" {
			d.addHeader(headers.ACEH, ru.aceh)
		}
		return
	case ok && isSameOrigin(r, origin, &po):
		d.Outcome, d.Reason = OutcomeSameOrigin, reasonSameOrigin
		return
	case ok:
		d.Outcome, d.Reason = OutcomeActualDenied, grantReason(d, reasonOrigin)
	default:
		d.Outcome, d.Reason = OutcomeActualDenied, reasonMalformedOrigin
	}
	if ru.reject {
		d.Action, d.Status, d.Body = Respond, 403, deniedRequestBody
	}
}

// singleOrigin returns the request's one Origin value. ok is false when
// the header is repeated, or longer than any serialized origin
// (origins.MaxLength): such a request is malformed at once, so that no
// matching work scales with a hostile value's length.
func singleOrigin(r *Request) (origin string, ok bool) {
	if len(r.Origin) != 1 || len(r.Origin[0]) > origins.MaxLength {
		return "", false
	}
	return r.Origin[0], true
}

// isSameOrigin reports whether an actual request comes from the request's
// own origin: its Origin is the request's scheme (or, behind a proxy that
// terminates TLS, its X-Forwarded-Proto) and authority, or the browser says
// so with Sec-Fetch-Site (it sends "Origin: null" on some
// same-origin requests, under Referrer-Policy: no-referrer for example).
// origin is the request's single Origin value, and po its parse.
//
// [Fetch §append a request Origin header]: https://fetch.spec.whatwg.org/#append-a-request-origin-header
func isSameOrigin(r *Request, origin string, po *parsedOrigin) bool {
	if r.SecFetchSite == "same-origin" {
		return true
	}
	if !origins.MaybeSameOrigin(origin, r.Authority) {
		return false // without parsing: a cross-origin denial is common
	}
	o, ok := po.parse(origin)
	return ok && (origins.SameOrigin(o, r.Scheme, r.Authority) ||
		r.ForwardedProto != "" && origins.SameOrigin(o, r.ForwardedProto, r.Authority))
}

// parsedOrigin is an Origin value parsed on first use: the checks of one
// request share one parse.
type parsedOrigin struct {
	o     origins.Origin
	state int8 // 0: not yet parsed; 1: parsed; -1: does not parse
}

func (po *parsedOrigin) parse(origin string) (origins.Origin, bool) {
	if po.state == 0 {
		po.state = -1
		if o, ok := origins.Parse(origin); ok {
			po.o, po.state = o, 1
		}
	}
	return po.o, po.state > 0
}

func (ru *rule) addACAO(d *Decision, origin string) {
	if ru.staticAny {
		d.addHeader(headers.ACAO, "*")
	} else {
		d.addEcho(headers.ACAO, origin)
	}
	if ru.credentials && (d.Grant != GrantAdmitted || d.grantCredentials) {
		d.addHeader(headers.ACAC, "true")
	}
}

// allowsOrigin checks an Origin value, parsing it into po if patterns or
// regexes need it. Precondition: len(origin) <= origins.MaxLength (see
// singleOrigin).
func (ru *rule) allowsOrigin(origin string, po *parsedOrigin) bool {
	if set := ru.origins; set != nil && setAllows(set, origin, po) {
		return true
	}
	if len(ru.sets) > 0 && ru.allowsDynamic(origin, po) {
		return true
	}
	if len(ru.regexes) == 0 {
		return false
	}
	if _, ok := po.parse(origin); !ok {
		return false
	}
	for _, re := range ru.regexes {
		if re.MatchString(origin) {
			return true
		}
	}
	return false
}

// allowsMethod checks a requested method case-sensitively, as Fetch does.
// A wildcard allows only methods of at most methods.MaxLength bytes.
func (ru *rule) allowsMethod(m string) bool {
	if methods.IsSafelisted(m) {
		return true
	}
	if ru.methods.has(m) {
		return true // listed methods are valid and not forbidden
	}
	return ru.anyMethod && len(m) <= methods.MaxLength && headers.IsToken(m) && !methods.IsForbidden(m)
}

// checkHeaders checks every name in Access-Control-Request-Headers and
// returns "" when all are allowed, else the reason of the denial. canonical
// reports whether the list is in the form browsers send, fit to be echoed.
func (ru *rule) checkHeaders(acrh []string) (reason string, canonical bool) {
	if len(acrh) == 0 {
		return "", false
	}
	if len(acrh) == 1 && len(acrh[0]) <= headers.MaxACRHLength {
		// The form browsers send, lower-case names and single commas, is
		// checked in one pass, name by name as Names would yield them.
		// Any other form is left to Names, from the start.
		for rest, n := acrh[0], 1; n <= headers.MaxElements; n++ {
			name := rest
			i := strings.IndexByte(rest, ',')
			if i >= 0 {
				name = rest[:i]
			}
			// A listed name is a lower-case token, and allowed: the
			// usual case needs no other check.
			if !ru.headers.has(name) {
				if len(name) > headers.MaxNameLength || !headers.IsLowerToken(name) {
					break
				}
				if !ru.allowsHeader(name, true) {
					return reasonHeaders, false
				}
			}
			if i < 0 {
				return "", true
			}
			rest = rest[i+1:]
		}
	}
	allowed := true
	ok, canonical := headers.Names(acrh, func(name string, lower bool) bool {
		allowed = ru.allowsHeader(name, lower)
		return allowed
	})
	switch {
	case !ok:
		return reasonBadHeaders, false
	case !allowed:
		return reasonHeaders, false
	}
	return "", canonical
}

// allowsHeader checks one requested header name, byte-case-insensitively.
// "*" never covers Authorization, which must be listed by name.
//
// [Fetch §CORS non-wildcard request-header name]: https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name
func (ru *rule) allowsHeader(name string, lower bool) bool {
	if ru.anyHeader && !ascii.EqualFold(name, "authorization") {
		return true
	}
	if lower {
		return ru.headers.has(name)
	}
	return ru.allowsFoldedHeader(name)
}

// allowsFoldedHeader is allowsHeader for a name with upper-case letters,
// apart so that the usual lower-case check needs no stack buffer.
func (ru *rule) allowsFoldedHeader(name string) bool {
	if len(name) > headers.MaxNameLength {
		return false
	}
	var buf [headers.MaxNameLength]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return ru.headers.has(string(buf[:len(name)]))
}

// normalizedHeaders returns the Access-Control-Allow-Headers value for an
// allowed preflight whose header list is not in the form browsers send
// (re-spaced or split over lines by an intermediary, or upper case): the
// requested names, lower-cased, comma-separated. Precondition:
// checkHeaders(acrh) returned "".
func normalizedHeaders(acrh []string) string {
	var b strings.Builder
	headers.Names(acrh, func(name string, _ bool) bool {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(ascii.Lower(name))
		return true
	})
	return b.String()
}

// wantsPrivateNetwork reports whether a preflight asks for private network
// access.
//
// [Private Network Access]: https://wicg.github.io/private-network-access/
func wantsPrivateNetwork(acrpn []string) bool {
	return len(acrpn) == 1 && ascii.EqualFold(ascii.TrimSpace(acrpn[0]), "true")
}
