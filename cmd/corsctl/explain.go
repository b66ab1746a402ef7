package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/corsfilter/corsfilter/host"
	"github.com/corsfilter/corsfilter/policy"
)

func init() {
	commands["explain"] = command{
		summary: "say which rule governs a request, the verdict and why, and the exact response headers",
		run:     runExplain,
	}
}

// headerFlags collects repeated -header "Name: value" flags.
type headerFlags []policy.Header

func (h *headerFlags) String() string {
	parts := make([]string, len(*h))
	for i, kv := range *h {
		parts[i] = kv.Name + ": " + kv.Value
	}
	return strings.Join(parts, ", ")
}

func (h *headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("want \"Name: value\", got %q", s)
	}
	*h = append(*h, policy.Header{Name: strings.ToLower(name), Value: strings.TrimSpace(value)})
	return nil
}

// explainFlags are the facts of the request to explain, and the upstream
// response it would get.
type explainFlags struct {
	origin, method, scheme, authority, path, route string
	headers                                        headerFlags
	upstreamStatus                                 int
	upstreamHeaders                                headerFlags
	routeHeaders                                   headerFlags // the route's response_headers_to_add
	json                                           bool
	credentials                                    bool
	grant                                          string // grant.go
	now                                            int64
	sets                                           setFlags
}

// runExplain implements `corsctl explain CONFIG.json -origin O -method M
// [-header K:V]... [-authority H -path P] [-route NAME]`. It exits 0 whatever
// the verdict, 1 on an invalid configuration and 2 on bad flags.
func runExplain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f explainFlags
	var configFlag string
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.StringVar(&configFlag, "config", "", "the plugin configuration `file`, if not given as an argument")
	fs.SetOutput(stderr)
	fs.StringVar(&f.origin, "origin", "", "the request's Origin header (omit for a request without Origin)")
	fs.StringVar(&f.method, "method", "GET", "the request method; OPTIONS plus an Access-Control-Request-Method header makes a preflight")
	fs.Var(&f.headers, "header", "a request header \"Name: value\", repeatable (Access-Control-Request-Method, Access-Control-Request-Headers, ...)")
	fs.StringVar(&f.scheme, "scheme", "https", "the request scheme, for same-origin detection")
	fs.StringVar(&f.authority, "authority", "", "the request authority (Host), for match.hosts and same-origin detection")
	fs.StringVar(&f.path, "path", "/", "the request path, for match.paths, path_prefixes and path_regexes")
	fs.StringVar(&f.route, "route", "", "Envoy's route name, for match.route_names")
	fs.IntVar(&f.upstreamStatus, "upstream-status", 200, "the status of the upstream's response, for a forwarded request")
	fs.Var(&f.upstreamHeaders, "upstream-header", "a header of the upstream's response \"Name: value\", repeatable")
	fs.BoolVar(&f.credentials, "credentials", false, "the page sends credentials (fetch's credentials: \"include\"); a Cookie header implies it")
	fs.Var(&f.routeHeaders, "route-header", "a header the route adds to every response (Envoy's response_headers_to_add, appended) \"Name: value\", repeatable")
	grantFlags(fs, &f)
	fs.Var(&f.sets, "origin-set", setUsage)
	fs.BoolVar(&f.json, "json", false, "print what the client receives as one replay output line, with \"rule\" and \"verdict\"")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: corsctl explain CONFIG -origin O -method M [-header K:V]... [-authority H -path P] [-route NAME]")
		fmt.Fprintln(w, "Explain what the plugin does with one request: the rule, the verdict and why, and the response headers.")
		fs.PrintDefaults()
	}
	pos, code, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	path, ok := configArg(fs, pos, configFlag, stderr)
	if !ok {
		return 2
	}
	if f.method == "" || strings.ContainsAny(f.method, " \t:") {
		fmt.Fprintf(stderr, "corsctl: invalid -method %q\n", f.method)
		return 2
	}
	p, code := loadPolicyFile(path, stdin, stderr)
	if p == nil {
		return code
	}
	if !applySets(p, f.sets, stderr) {
		return 1
	}
	req := f.request()
	d := decideWithGrant(p, req, &f)
	if f.json {
		return writeEffectJSON(stdout, stderr, &f, &d)
	}
	writeExplanation(stdout, p, req, &f, &d)
	return 0
}

// effectLine is explain -json's output: a replay output line, plus the rule
// and the verdict.
type effectLine struct {
	Forwarded bool        `json:"forwarded"`
	Status    int         `json:"status"`
	Headers   [][2]string `json:"headers"`
	Rule      string      `json:"rule"`
	Verdict   string      `json:"verdict"`
}

// effect returns what the client receives, as replay reports it through
// the real plugin: a local reply as Envoy builds it (the route's headers
// first), or the upstream's response (the route's headers after), each
// with the decision's edits.
func effect(f *explainFlags, d *policy.Decision) effectLine {
	out := effectLine{Forwarded: true, Status: f.upstreamStatus, Rule: d.Rule, Verdict: verdict(d.Outcome)}
	var route []host.HeaderToAdd
	for _, h := range f.routeHeaders {
		route = append(route, host.HeaderToAdd{Name: h.Name, Value: h.Value})
	}
	hs := f.upstreamHeaders
	if route != nil {
		hs = fromHost(host.RouteResponse(host.Response{Status: f.upstreamStatus, Headers: toHost(f.upstreamHeaders)}, route).Headers)
	}
	var e policy.Edits
	switch {
	case d.Enforced() && d.Action == policy.Respond:
		r := host.RouteLocalReply(d.Status, route, toHost(d.Reply(nil)), []byte(d.Body))
		out.Forwarded, out.Status = false, r.Status
		hs = fromHost(r.Headers)
		d.LocalReply(hs, &e)
		hs = e.Apply(hs)
	case d.Enforced():
		d.Response(hs, &e)
		hs = e.Apply(hs)
	}
	out.Headers = make([][2]string, 0, len(hs))
	for _, h := range hs {
		out.Headers = append(out.Headers, [2]string{strings.ToLower(h.Name), h.Value})
	}
	return out
}

func toHost(hs []policy.Header) []host.Header {
	out := make([]host.Header, len(hs))
	for i, h := range hs {
		out[i] = host.Header{Name: h.Name, Value: h.Value}
	}
	return out
}

func fromHost(hs []host.Header) []policy.Header {
	out := make([]policy.Header, len(hs))
	for i, h := range hs {
		out[i] = policy.Header{Name: h.Name, Value: h.Value}
	}
	return out
}

func writeEffectJSON(stdout, stderr io.Writer, f *explainFlags, d *policy.Decision) int {
	b, err := json.Marshal(effect(f, d))
	if err != nil {
		fmt.Fprintf(stderr, "corsctl: explain: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}

// request builds the policy.Request the filter would gather from the flags,
// through policy.Request.AddHeader as the filter does, so that explain reads
// every header the plugin reads.
func (f *explainFlags) request() *policy.Request {
	r := &policy.Request{RouteName: f.route}
	hs := make([]policy.Header, 0, len(f.headers)+1)
	if f.origin != "" {
		hs = append(hs, policy.Header{Name: "origin", Value: f.origin})
	}
	hs = append(hs, f.headers...)
	r.AddHeader(":method", f.method)
	r.AddHeader(":scheme", f.scheme)
	r.AddHeader(":authority", authority(f.authority, hs))
	r.AddHeader(":path", f.path)
	for _, h := range hs {
		if h.Name != "host" && !strings.HasPrefix(h.Name, ":") {
			r.AddHeader(h.Name, h.Value)
		}
	}
	return r
}

// verdict sums an outcome up in one word for a frontend developer. explain
// reads the outcome from its decision, replay from the counter the plugin
// incremented: a request no rule governs (unmatched, or mode off) is
// UNTOUCHED, a denial DENIED, anything else ALLOWED.
func verdict(o policy.Outcome) string {
	switch {
	case o == policy.OutcomeUnmatched || o == policy.OutcomeOff:
		return "UNTOUCHED"
	case o.Denied():
		return "DENIED"
	default:
		return "ALLOWED"
	}
}

// writeExplanation prints the decision for a human: the request, the rule,
// the verdict and reason, what the client receives, and the exact headers.
func writeExplanation(w io.Writer, p *policy.Policy, r *policy.Request, f *explainFlags, d *policy.Decision) {
	target := r.Path
	if r.Authority != "" {
		target = r.Scheme + "://" + r.Authority + r.Path
	}
	fmt.Fprintf(w, "request:   %s %s\n", r.Method, target)
	for _, o := range r.Origin {
		fmt.Fprintf(w, "           origin: %s\n", o)
	}
	for _, h := range f.headers {
		if h.Name != "origin" {
			fmt.Fprintf(w, "           %s: %s\n", h.Name, h.Value)
		}
	}
	if r.RouteName != "" {
		fmt.Fprintf(w, "           route: %s\n", r.RouteName)
	}
	credentialed := f.credentialed()
	if f.credentials {
		fmt.Fprintln(w, "           (with credentials)")
	}

	names := p.RuleNames()
	if d.RuleIndex < 0 || d.Rule == "" {
		fmt.Fprintf(w, "rule:      none of %d (%s) matched\n", len(names), strings.Join(names, ", "))
	} else {
		fmt.Fprintf(w, "rule:      %s (rule %d of %d)\n", d.Rule, d.RuleIndex+1, len(names))
		if desc := p.Describe()[d.RuleIndex].Description; desc != "" {
			fmt.Fprintf(w, "           %s\n", indentLines(desc, "           "))
		}
	}
	if v := p.Version(); v != "" {
		fmt.Fprintf(w, "policy:    version %s\n", v)
	}
	fmt.Fprintf(w, "kind:      %s\n", kindText(d.Kind))
	v := verdict(d.Outcome)
	if d.ReportOnly {
		v += " (report_only: counted and logged, not enforced)"
	}
	fmt.Fprintf(w, "verdict:   %s\n", v)
	fmt.Fprintf(w, "reason:    %s (%s)\n", reasonText(d), d.Outcome)
	if c := culprit(p, r, d); c != "" {
		fmt.Fprintf(w, "           %s\n", c)
	}
	writeGrant(w, p, r, d)
	for _, l := range candidateLines(p, r, d) {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "client:    %s\n", clientText(d))
	if refusal := credentialsRefusal(d, credentialed); refusal != "" {
		fmt.Fprintf(w, "browser:   %s\n", refusal)
	} else {
		fmt.Fprintf(w, "browser:   %s\n", browserText(d))
	}

	switch {
	case d.Action == policy.Ignore:
		fmt.Fprintln(w, "headers:   none added or removed; the upstream's headers reach the client as they are")
		return
	case d.ReportOnly:
		fmt.Fprintln(w, "headers:   none changed (report_only); under enforce mode they would be:")
	case d.Action == policy.Forward:
		fmt.Fprintln(w, "headers:   the upstream's Access-Control-* headers are removed, then:")
	default:
		fmt.Fprintln(w, "headers:")
	}
	hs := d.Headers()
	for _, h := range hs {
		fmt.Fprintf(w, "  %s: %s\n", h.Name, h.Value)
	}
	if d.Vary != "" {
		if d.Action == policy.Forward {
			fmt.Fprintf(w, "  vary: %s (merged into the upstream's vary)\n", d.Vary)
		} else {
			fmt.Fprintf(w, "  vary: %s\n", d.Vary)
		}
	}
	if len(hs) == 0 && d.Vary == "" {
		fmt.Fprintln(w, "  (no CORS headers)")
	}
	if d.Action == policy.Respond && d.Body != "" {
		// Envoy adds these to a local reply with a body.
		fmt.Fprintf(w, "  content-type: text/plain\n  content-length: %d\n", len(d.Body))
		fmt.Fprintf(w, "body:      %q\n", d.Body)
	}
	if len(f.routeHeaders) > 0 && d.Enforced() {
		fmt.Fprintln(w, "route:     Envoy adds the route's response headers first; the filter removes every")
		fmt.Fprintln(w, "           Access-Control-* header that is not one of the above (see -json)")
	}
	if d.Kind != policy.Preflight && r.Method == "OPTIONS" && len(r.Origin) > 0 && len(r.ACRM) == 0 {
		fmt.Fprintln(w, "note:      an OPTIONS request is a preflight only with an Access-Control-Request-Method header;")
		fmt.Fprintln(w, "           add -header 'Access-Control-Request-Method: PUT' to explain a preflight")
	}
}

func kindText(k policy.Kind) string {
	switch k {
	case policy.Preflight:
		return "preflight (OPTIONS with Origin and Access-Control-Request-Method)"
	case policy.Actual:
		return "actual CORS request (has an Origin header)"
	default:
		return "not a CORS request (no Origin header)"
	}
}

func reasonText(d *policy.Decision) string {
	if d.Reason != "" {
		return d.Reason
	}
	switch d.Outcome {
	case policy.OutcomeUnmatched:
		return "no rule matched the request"
	case policy.OutcomeOff:
		return "the rule's mode is off"
	}
	return d.Outcome.String()
}

// clientText says what the client receives: a local reply or the upstream's
// response.
func clientText(d *policy.Decision) string {
	switch {
	case d.Action == policy.Ignore:
		return "forwarded to upstream; the filter leaves request and response untouched"
	case d.ReportOnly && d.Action == policy.Respond:
		return fmt.Sprintf("forwarded to upstream unchanged (enforce mode would reply %d locally)", d.Status)
	case d.ReportOnly:
		return "forwarded to upstream unchanged"
	case d.Action == policy.Respond:
		return fmt.Sprintf("local reply %d from the filter; the request never reaches the upstream", d.Status)
	case len(d.Headers()) == 0:
		return "forwarded to upstream; the filter removes the upstream's CORS headers from its response"
	default:
		return "forwarded to upstream; the filter sets the CORS headers on its response"
	}
}

// credentialed reports whether the request is sent with credentials: so
// flagged, or carrying a Cookie, which a browser sends only then.
func (f *explainFlags) credentialed() bool {
	if f.credentials {
		return true
	}
	for _, h := range f.headers {
		if h.Name == "cookie" {
			return true
		}
	}
	return false
}

// credentialsRefusal says why the browser refuses an allowed answer to a
// credentialed request; "" when it does not. For such a request, Fetch's
// CORS check wants the request's own origin in Access-Control-Allow-Origin,
// never "*", and Access-Control-Allow-Credentials: true, on the preflight
// and on the response alike.
//
// [Fetch §CORS check]: https://fetch.spec.whatwg.org/#cors-check
func credentialsRefusal(d *policy.Decision, credentialed bool) string {
	if !credentialed || !d.Enforced() || (d.Outcome != policy.OutcomePreflightAllowed && d.Outcome != policy.OutcomeActualAllowed) {
		return ""
	}
	var acao string
	acac := false
	for _, h := range d.Headers() {
		switch h.Name {
		case "access-control-allow-origin":
			acao = h.Value
		case "access-control-allow-credentials":
			acac = h.Value == "true"
		}
	}
	rule := "rule " + strconv.Quote(d.Rule)
	switch {
	case acao == "*":
		return "refused: with credentials (credentials: \"include\", or a Cookie), the browser refuses Access-Control-Allow-Origin: *, " +
			"and fetch() rejects with a TypeError; " + rule + " answers * because it allows any origin without allow_credentials: " +
			"list the origins and set allow_credentials, or send the request without credentials"
	case !acac:
		return "refused: with credentials (credentials: \"include\", or a Cookie), the browser wants Access-Control-Allow-Credentials: true, " +
			"which " + rule + " does not send (allow_credentials is false), and fetch() rejects with a TypeError; " +
			"set allow_credentials, or send the request without credentials"
	}
	return ""
}

// browserText says what the page's fetch() sees, under enforcement.
func browserText(d *policy.Decision) string {
	switch {
	case d.Action == policy.Ignore || d.ReportOnly:
		return "depends on the upstream's own CORS headers"
	}
	switch d.Outcome {
	case policy.OutcomePreflightAllowed:
		return "the preflight passes; the browser then sends the actual request"
	case policy.OutcomePreflightDeniedOrigin, policy.OutcomePreflightDeniedMethod,
		policy.OutcomePreflightDeniedHeaders, policy.OutcomePreflightDeniedPrivateNetwork:
		return "the preflight fails: the actual request is never sent and fetch() rejects with a TypeError"
	case policy.OutcomeActualAllowed:
		return "the page can read the response"
	case policy.OutcomeActualDenied:
		if d.Action == policy.Respond {
			return "the request is rejected; fetch() rejects with a TypeError (no CORS headers on the 403)"
		}
		return "the request reaches the upstream, but the page cannot read the response: fetch() rejects with a TypeError"
	case policy.OutcomeSameOrigin:
		return "a same-origin request: CORS does not apply"
	default:
		return "not subject to CORS (no Origin): the response carries no CORS headers"
	}
}
