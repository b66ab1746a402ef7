package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/corsfilter/corsfilter/policy"
)

// stream is the state of one HTTP stream: the decision the response path
// needs when the request is forwarded under enforcement, or answered
// locally. Streams are recycled, so their storage (the decision, the bytes
// it echoes) is reused.
type stream struct {
	plugin   *pluginContext
	decision policy.Decision
	forward  bool // decorate the response with decision
	replied  bool // the response is decision's local reply: keep its CORS headers only
	echoes   [echoCap]byte
	// spill holds what a local reply echoes beyond echoes (a long
	// Access-Control-Allow-Headers). Grown once, it stays with the stream
	// from one use to the next, so that it allocates nothing more.
	spill []byte
}

// echoCap holds what a forwarded decision echoes: the origin, at most
// origins.MaxLength (328) bytes, longer values being never allowed; and
// what most local replies echo: the origin, the method and the headers
// requested.
const echoCap = 512

// scratch is storage reused from stream to stream. A VM runs one callback at
// a time, so one set serves every stream of the VM.
var scratch struct {
	request policy.Request
	reply   []policy.Header
	headers []policy.Header // a response's header map as read (requests go to AddHeader as read)
	edits   policy.Edits
	buf     []byte
}

// onRequestHeaders decides once, then answers locally, keeps the decision
// for the response, or, for report_only and ungoverned requests, only
// counts.
func (s *stream) onRequestHeaders() (action types.Action) {
	p := s.plugin
	s.forward, s.replied = false, false
	if p == nil || p.policy == nil {
		return types.ActionContinue
	}
	defer p.guard("request headers", &action)
	r := &scratch.request
	r.Reset()
	if err := readRequest(r, p.routes); err != nil {
		p.fault("reading the request", err)
		return types.ActionContinue
	}
	p.grantClock(r)
	d := &s.decision
	p.policy.DecideInto(r, d)
	p.count(d)
	p.afterDecide(r, d)
	p.observe(r, d)
	if d.Outcome.Denied() {
		logDenial(r, d)
	}
	if !d.Enforced() {
		return types.ActionContinue
	}
	// The request's buffers are reused once this callback returns, and the
	// response path needs the decision either way.
	s.detach()
	if d.Action == policy.Forward {
		s.forward = true
		return types.ActionContinue
	}
	// Respond. Envoy runs this stream's response-headers callback on the
	// local reply too, with a route's response headers already in it:
	// replied has that callback keep the reply's own CORS headers only.
	scratch.reply = d.Reply(scratch.reply[:0])
	if err := sendLocalReply(s, d.Status, scratch.reply, d.Body); err != nil {
		p.fault("sending the local reply", err)
		return types.ActionContinue
	}
	s.replied = true
	return types.ActionPause
}

// detach copies what the decision echoes from the request into the
// stream's own storage: echoes, or spill when a reply echoes more.
func (s *stream) detach() {
	buf := s.spill[:0]
	if buf == nil {
		buf = s.echoes[:0]
	}
	if out := s.decision.Detach(buf); cap(out) > cap(buf) {
		s.spill = out[:0] // grown: keep it for the next use of the stream
	}
}

// onResponseHeaders owns the CORS headers of an enforced request's
// response: it applies the decision's edits. The response may be the
// upstream's, a later filter's local reply (a JWT 401), edited the same
// way, or the plugin's own local reply, which Envoy hands back with the
// route's response headers in it: the policy says which of its CORS
// headers are not the reply's own.
func (s *stream) onResponseHeaders() (action types.Action) {
	p := s.plugin
	if !s.forward && !s.replied || p == nil {
		return types.ActionContinue
	}
	defer p.guard("response headers", &action)
	var upstream []policy.Header
	var err error
	if s.replied {
		var same bool
		upstream, same, err = localReplyHeaders(s, scratch.headers[:0])
		if same {
			return types.ActionContinue // no edit to make
		}
	} else {
		upstream, err = responseHeaders(scratch.headers[:0])
	}
	scratch.headers = upstream
	if err != nil {
		p.fault("reading the response headers", err)
		return types.ActionContinue
	}
	e := &scratch.edits
	if s.replied {
		s.decision.LocalReply(upstream, e)
	} else {
		s.decision.Response(upstream, e)
	}
	for _, name := range e.Remove {
		if err := removeResponseHeader(name); err != nil {
			p.fault("removing an upstream cors header", err)
			return types.ActionContinue
		}
	}
	if e.Overridden {
		p.increment(p.metrics.overridden[s.decision.RuleIndex])
	}
	for _, h := range e.Set {
		if err := replaceResponseHeader(h.Name, h.Value); err != nil {
			p.fault("setting a cors header", err)
			return types.ActionContinue
		}
	}
	return types.ActionContinue
}

// maxLoggedValue bounds how much of a request value a log line quotes.
const maxLoggedValue = 64

// denialLine writes the debug line of a denial into scratch.buf. The line
// is built even when the host discards debug logs: the ABI version the SDK
// declares (0.2.0) has no proxy_get_log_level, and Envoy does not link that
// call for such a module. So the origin is cut to maxLoggedValue bytes
// before it is quoted, and a hostile Origin costs a line of bounded size.
func denialLine(r *policy.Request, d *policy.Decision) []byte {
	origin := ""
	if len(r.Origin) > 0 {
		origin = r.Origin[0]
	}
	b := append(scratch.buf[:0], "cors: rule "...)
	b = append(b, d.Rule...)
	b = append(b, " denied "...)
	b = append(b, d.Kind.String()...)
	b = append(b, " from origin "...)
	b = policy.AppendQuoteTruncated(b, origin, maxLoggedValue)
	b = append(b, ": "...)
	b = append(b, d.Reason...)
	if d.ReportOnly {
		b = append(b, " (report_only true)"...)
	} else {
		b = append(b, " (report_only false)"...)
	}
	scratch.buf = b
	return b
}

// httpContext adapts a stream to the SDK's HttpContext. The SDK drives it
// natively, under its proxytest emulator; in the plugin the ABI layer
// drives streams directly (streams_wasip1.go), without the SDK's per-stream
// allocations.
type httpContext struct {
	types.DefaultHttpContext
	s stream
}

// OnHttpRequestHeaders implements types.HttpContext.
func (h *httpContext) OnHttpRequestHeaders(int, bool) types.Action { return h.s.onRequestHeaders() }

// OnHttpResponseHeaders implements types.HttpContext.
func (h *httpContext) OnHttpResponseHeaders(int, bool) types.Action {
	return h.s.onResponseHeaders()
}
