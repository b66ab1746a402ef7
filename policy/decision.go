package policy

import (
	"strings"
	"unsafe"

	"github.com/corsfilter/corsfilter/internal/streq"
	"github.com/corsfilter/corsfilter/policy/internal/ascii"
	"github.com/corsfilter/corsfilter/policy/internal/headers"
)

// Request holds the facts of one HTTP request that a CORS decision needs, as
// the filter gathered them from the request headers and properties. Values
// are raw: the policy normalises nothing the browser would not.
type Request struct {
	Method    string // the request method (":method"), case-sensitive
	Scheme    string // ":scheme", for same-origin detection ("http" or "https")
	Authority string // ":authority" (host, optionally ":port")
	Path      string // ":path", including any query string
	RouteName string // Envoy's xds.route_name property; "" when unknown

	// SecFetchSite is the Sec-Fetch-Site header ("" when absent). Only its
	// "same-origin" value is used: such a request is never rejected.
	SecFetchSite string

	// ForwardedProto is the scheme a TLS-terminating proxy in front of
	// Envoy recorded in X-Forwarded-Proto ("" when absent). It serves only
	// to recognise same-origin requests, which are never rejected: a page
	// on another origin cannot use it to pass as same-origin, since its
	// Origin would still name its own host.
	ForwardedProto string

	// Each field below holds every value of that request header, in order,
	// one element per header line. nil means the header is absent.
	Origin []string // Origin
	ACRM   []string // Access-Control-Request-Method
	ACRH   []string // Access-Control-Request-Headers
	ACRPN  []string // Access-Control-Request-Private-Network

	// Now is the time of the request, in unix seconds, against which
	// grants are checked (docs/grants.md).
	Now int64

	// Grants is the VM's grant verification state (Policy.NewGrantCache):
	// the tokens verified lately and the budget of verifications per
	// second. nil verifies every grant, without a budget. Reset keeps it.
	Grants *GrantCache
}

// Reset empties r for the next request, keeping the capacity of its lists,
// so that a filter reading one request after another into the same Request
// allocates nothing.
func (r *Request) Reset() {
	// Field by field: a composite literal is built on the stack and
	// copied, which costs more than the rest of a not-CORS decision.
	r.Method, r.Scheme, r.Authority, r.Path, r.RouteName = "", "", "", "", ""
	r.SecFetchSite, r.ForwardedProto, r.Now, r.Grants = "", "", 0, nil
	r.Origin, r.ACRM, r.ACRH, r.ACRPN = r.Origin[:0], r.ACRM[:0], r.ACRH[:0], r.ACRPN[:0]
}

// AddHeader records one request header (or pseudo-header) if a decision
// depends on it, matching its name case-insensitively; other headers are
// ignored. Repeated headers keep every value, in order. It allocates only to
// grow the slices of repeated headers, and its work on a name or value does
// not grow with the value's length, except for the comma search in
// X-Forwarded-Proto.
func (r *Request) AddHeader(name, value string) {
	// By length first, then one comparison: in wasm, a string switch's
	// binary search calls the runtime several times per header, and most
	// headers (user-agent, accept, cookie) are dismissed by length alone.
	switch len(name) {
	case len(":path"):
		if name == ":path" {
			r.Path = value
			return
		}
	case len(headers.Origin):
		if name == headers.Origin {
			r.Origin = append(r.Origin, value)
			return
		}
	case len(":method"): // and ":scheme"
		switch {
		case streq.Equal(name, ":method"):
			r.Method = value
			return
		case streq.Equal(name, ":scheme"):
			r.Scheme = value
			return
		}
	case len(":authority"):
		if streq.Equal(name, ":authority") {
			r.Authority = value
			return
		}
	case len("sec-fetch-site"):
		if streq.Equal(name, "sec-fetch-site") {
			r.SecFetchSite = value
			return
		}
	case len("x-forwarded-proto"):
		if streq.Equal(name, "x-forwarded-proto") {
			r.addForwardedProto(value)
			return
		}
	case len(headers.ACRM):
		if streq.Equal(name, headers.ACRM) {
			r.ACRM = append(r.ACRM, value)
			return
		}
	case len(headers.ACRH):
		if streq.Equal(name, headers.ACRH) {
			r.ACRH = append(r.ACRH, value)
			return
		}
	case len(headers.ACRPN):
		if streq.Equal(name, headers.ACRPN) {
			r.ACRPN = append(r.ACRPN, value)
			return
		}
	default:
		return // no recorded name has this length
	}
	// Hosts hand names over in lower case; another spelling of a recorded
	// name is folded and looked up again.
	if hasUpper(name) {
		r.addFolded(name, value)
	}
}

// addFolded records a header whose name has upper-case letters, folding it
// into a stack buffer. Precondition: len(name) <= len(headers.ACRPN).
func (r *Request) addFolded(name, value string) {
	var buf [len(headers.ACRPN)]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	r.AddHeader(unsafe.String(&buf[0], len(name)), value)
}

func (r *Request) addForwardedProto(value string) {
	if r.ForwardedProto == "" {
		// The first proxy's value: "https" in "https, http". Only a scheme
		// is of use; a longer value is ignored rather than lower-cased.
		proto, _, _ := strings.Cut(value, ",")
		if proto = ascii.TrimSpace(proto); len(proto) <= maxForwardedProto {
			r.ForwardedProto = ascii.Lower(proto)
		}
	}
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// maxForwardedProto bounds the X-Forwarded-Proto value AddHeader keeps:
// "https" and "http", and other short schemes, fit.
const maxForwardedProto = 16

// Kind is the Fetch classification of a request.
type Kind uint8

const (
	// NotCORS is a request without an Origin header.
	NotCORS Kind = iota
	// Preflight is an OPTIONS request with Origin and
	// Access-Control-Request-Method.
	Preflight
	// Actual is any other request with an Origin header.
	Actual
)

// String returns the kind in snake case.
func (k Kind) String() string {
	switch k {
	case Preflight:
		return "preflight"
	case Actual:
		return "actual"
	default:
		return "not_cors"
	}
}

// Action says what the filter must do with a request.
type Action uint8

const (
	// Ignore means no rule governs the request (no rule matched, or the
	// rule's mode is "off"): leave the request and its response untouched.
	Ignore Action = iota
	// Forward means let the request reach the upstream, then edit its
	// response as Decision.Response says.
	Forward
	// Respond means answer locally with Decision.Status, Decision.Body and
	// the headers of Decision.Reply; the request never reaches the
	// upstream.
	Respond
)

// String returns the action in snake case.
func (a Action) String() string {
	switch a {
	case Forward:
		return "forward"
	case Respond:
		return "respond"
	default:
		return "ignore"
	}
}

// Outcome is the bounded vocabulary of decision outcomes, used as a metric
// dimension next to the rule name. It never depends on the origin.
type Outcome uint8

const (
	// OutcomeUnmatched: no rule matched the request.
	OutcomeUnmatched Outcome = iota
	// OutcomeOff: the matched rule's mode is "off".
	OutcomeOff
	// OutcomeNotCORS: a request without Origin on a governed rule.
	OutcomeNotCORS
	// OutcomeSameOrigin: an actual request whose Origin is the request's own
	// scheme and authority, and which the allow-list does not cover.
	OutcomeSameOrigin
	// OutcomePreflightAllowed: a preflight answered with the CORS headers.
	OutcomePreflightAllowed
	// OutcomePreflightDeniedOrigin: a preflight from a disallowed origin.
	OutcomePreflightDeniedOrigin
	// OutcomePreflightDeniedMethod: a preflight asking for a method the rule
	// does not allow.
	OutcomePreflightDeniedMethod
	// OutcomePreflightDeniedHeaders: a preflight asking for a header the rule
	// does not allow, or with a malformed header list.
	OutcomePreflightDeniedHeaders
	// OutcomePreflightDeniedPrivateNetwork: a private network access
	// preflight on a rule that does not allow it.
	OutcomePreflightDeniedPrivateNetwork
	// OutcomeActualAllowed: an actual request from an allowed origin.
	OutcomeActualAllowed
	// OutcomeActualDenied: an actual cross-origin request from a disallowed
	// origin (forwarded without CORS headers, or rejected with 403).
	OutcomeActualDenied

	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	OutcomeUnmatched:                     "unmatched",
	OutcomeOff:                           "off",
	OutcomeNotCORS:                       "not_cors",
	OutcomeSameOrigin:                    "same_origin",
	OutcomePreflightAllowed:              "preflight_allowed",
	OutcomePreflightDeniedOrigin:         "preflight_denied_origin",
	OutcomePreflightDeniedMethod:         "preflight_denied_method",
	OutcomePreflightDeniedHeaders:        "preflight_denied_headers",
	OutcomePreflightDeniedPrivateNetwork: "preflight_denied_private_network",
	OutcomeActualAllowed:                 "actual_allowed",
	OutcomeActualDenied:                  "actual_denied",
}

// String returns the outcome's metric name, in snake case.
func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// Denied reports whether the outcome is a denial: what report_only counts as
// a divergence.
func (o Outcome) Denied() bool {
	switch o {
	case OutcomePreflightDeniedOrigin, OutcomePreflightDeniedMethod,
		OutcomePreflightDeniedHeaders, OutcomePreflightDeniedPrivateNetwork,
		OutcomeActualDenied:
		return true
	}
	return false
}

// Outcomes returns every outcome, in a fixed order, for defining metrics.
func Outcomes() []Outcome {
	all := make([]Outcome, numOutcomes)
	for i := range all {
		all[i] = Outcome(i)
	}
	return all
}

// Header is one response header.
type Header struct {
	Name  string // lower case
	Value string
}

// maxHeaders bounds the headers of one decision. An allowed preflight has
// the most: ACAO, ACAC, ACAM, ACAH, ACMA and ACAPN. An actual request has at
// most ACAO, ACAC and ACEH, and a denied preflight only x-cors-debug.
const maxHeaders = 6

// Decision is everything the filter needs to act on a request. It is a plain
// value: deciding allocates nothing, and a Decision may be kept for the
// response path of the same stream.
//
// It is kept small, since Decide returns it by value and the filter copies
// it into the stream: the small fields share one word.
type Decision struct {
	_       noCompare // see noCompare
	Kind    Kind
	Action  Action
	Outcome Outcome

	// ReportOnly is set when the rule's mode is report_only. Action, Status
	// and headers then say what enforcement would have done, and the filter
	// must change nothing: it only counts and logs.
	ReportOnly bool

	// Grant is the outcome of the grant the request carried, GrantNone
	// when it carried none or the rule takes none.
	Grant            GrantOutcome
	grantCredentials bool // the admitting grant allows credentials
	// CandidateEnforced is set when the rule's candidate decided (its
	// rollout covers the origin); Divergence says how the rule and its
	// candidate disagreed (see candidate.go).
	CandidateEnforced bool
	Divergence        Divergence

	nHeaders uint8
	echoed   uint8 // bit i: headers[i].Value is request data (see Detach)

	// Rule is the name of the rule that matched, and RuleIndex its position
	// in RuleNames; "" and -1 when no rule matched.
	Rule      string
	RuleIndex int

	// Reason says, in a few words, why: for debug logs and corsctl explain.
	Reason string

	// Status and Body are the local reply, when Action is Respond.
	Status int
	Body   string

	// Vary is the comma-separated list of Vary tokens the response must
	// carry ("" for none). Merge it with MergeVary.
	Vary string

	headers [maxHeaders]Header
}

// reset empties d for DecideInto: every field as in a zero Decision, save
// the storage beyond nHeaders, which no method reads.
func (d *Decision) reset() {
	d.Kind, d.Action, d.Outcome, d.ReportOnly = 0, 0, 0, false
	d.Grant, d.grantCredentials = 0, false
	d.CandidateEnforced, d.Divergence = false, 0
	d.nHeaders, d.echoed = 0, 0
	d.Rule, d.RuleIndex, d.Reason = "", 0, ""
	d.Status, d.Body, d.Vary = 0, "", ""
}

// Headers returns the CORS headers to set: on the local reply when Action is
// Respond, or on the upstream's response when Action is Forward. It does not
// include Vary. The returned slice aliases d.
func (d *Decision) Headers() []Header { return d.headers[:d.nHeaders] }

func (d *Decision) addHeader(name, value string) {
	if int(d.nHeaders) < maxHeaders {
		d.headers[d.nHeaders] = Header{Name: name, Value: value}
		d.nHeaders++
	}
}

// addEcho adds a header whose value is taken from the request.
func (d *Decision) addEcho(name, value string) {
	if int(d.nHeaders) < maxHeaders {
		d.echoed |= 1 << d.nHeaders
	}
	d.addHeader(name, value)
}

// Detach copies the header values the decision echoes from the request (the
// origin, a requested method or header list) into buf, and returns buf
// extended: the decision may then outlive the buffers the request was read
// from. The filter keeps a forwarded decision for the response path, by
// which time the host's buffers have been reused; it passes a buffer of its
// own per stream, so that detaching allocates nothing.
func (d *Decision) Detach(buf []byte) []byte {
	for i := range d.nHeaders {
		if d.echoed&(1<<i) != 0 && d.headers[i].Value != "" {
			v := d.headers[i].Value
			start := len(buf)
			buf = append(buf, v...)
			d.headers[i].Value = unsafe.String(&buf[start], len(v))
		}
	}
	d.echoed = 0
	return buf
}

// Enforced reports whether the filter must act on the decision: a rule
// matched, its mode is enforce, and the action is Forward or Respond.
func (d *Decision) Enforced() bool { return d.Action != Ignore && !d.ReportOnly }

// noCompare makes a struct type that holds it incomparable, so that the
// compiler generates no equality function for it: code no caller needs,
// which cost cors.wasm about 10 KB over the policy's types. It takes no
// space.
type noCompare [0]func()
