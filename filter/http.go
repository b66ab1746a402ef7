package main

import (
	"errors"
	"strconv"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/corsfilter/corsfilter/policy"
)

// routeNameProperty is Envoy's route name, for rules matching route_names.
var routeNameProperty = []string{"xds", "route_name"}

// httpContext handles one stream. It keeps the request's decision for the
// response path when the decision is to forward under enforcement.
type httpContext struct {
	types.DefaultHttpContext
	plugin   *pluginContext
	decision policy.Decision
	forward  bool // decorate the response with decision
}

// OnHttpRequestHeaders implements types.HttpContext. It decides once, then
// answers locally, remembers the decision for the response, or, for
// report_only and ungoverned requests, only counts.
func (h *httpContext) OnHttpRequestHeaders(int, bool) (action types.Action) {
	p := h.plugin
	defer p.guard("request headers", &action)
	if p.policy == nil {
		return types.ActionContinue
	}
	var r policy.Request
	if err := readRequest(&r, p.routes); err != nil {
		p.fault("reading the request", err)
		return types.ActionContinue
	}
	d := p.policy.Decide(&r)
	p.count(&d)
	if d.Outcome.Denied() {
		logDenial(&r, &d)
	}
	if !d.Enforced() {
		return types.ActionContinue
	}
	if d.Action == policy.Forward {
		// The request's buffers are reused once this callback returns.
		d.Detach(nil)
		h.decision, h.forward = d, true
		return types.ActionContinue
	}
	// Respond. Envoy runs this stream's response-headers callback on the
	// local reply too; forward stays false, so it is not decorated again.
	headers := make([][2]string, 0, len(d.Headers())+1)
	for _, hd := range d.Headers() {
		headers = append(headers, [2]string{hd.Name, hd.Value})
	}
	if d.Vary != "" {
		headers = append(headers, [2]string{"vary", d.Vary})
	}
	if err := proxywasm.SendHttpResponse(uint32(d.Status), headers, []byte(d.Body), -1); err != nil {
		p.fault("sending the local reply", err)
		return types.ActionContinue
	}
	return types.ActionPause
}

// maxLoggedValue bounds how much of a request value a log line quotes.
const maxLoggedValue = 64

// logDenial logs a denial at debug level. The line is built even when the
// host discards debug logs: the ABI version the SDK declares (0.2.0) has no
// proxy_get_log_level, and Envoy does not link that call for such a module.
// So the origin is cut to maxLoggedValue bytes before it is quoted, and a
// hostile Origin costs a line of bounded size.
func logDenial(r *policy.Request, d *policy.Decision) {
	origin := ""
	if len(r.Origin) > 0 {
		origin = r.Origin[0]
	}
	proxywasm.LogDebug("cors: rule " + d.Rule + " denied " + d.Kind.String() + " from origin " +
		policy.QuoteTruncated(origin, maxLoggedValue) + ": " + d.Reason + " (report_only " + strconv.FormatBool(d.ReportOnly) + ")")
}

// readRequest gathers what Decide needs: the pseudo-headers, every value of
// the CORS request headers (the pairs call sees repeated headers), and, when
// some rule matches on it, the route name ("" when Envoy has none).
func readRequest(r *policy.Request, routes bool) error {
	hs, err := proxywasm.GetHttpRequestHeaders()
	if err != nil {
		return err
	}
	for _, kv := range hs {
		r.AddHeader(kv[0], kv[1])
	}
	if !routes {
		return nil
	}
	route, err := proxywasm.GetProperty(routeNameProperty)
	switch {
	case err == nil:
		r.RouteName = string(route)
	case !errors.Is(err, types.ErrorStatusNotFound):
		return err
	}
	return nil
}

// OnHttpResponseHeaders implements types.HttpContext. On a forwarded,
// enforced request it owns the CORS headers: the upstream's are removed,
// the decision's added, and Vary merged. The response may also be a later
// filter's local reply (a JWT 401), which is decorated the same way.
func (h *httpContext) OnHttpResponseHeaders(int, bool) (action types.Action) {
	p := h.plugin
	defer p.guard("response headers", &action)
	if !h.forward {
		return types.ActionContinue
	}
	d := &h.decision
	hs, err := proxywasm.GetHttpResponseHeaders()
	if err != nil {
		p.fault("reading the response headers", err)
		return types.ActionContinue
	}
	var vary []string
	overridden := false
	for _, kv := range hs {
		name := kv[0]
		switch {
		case policy.IsUpstreamCORSHeader(name):
			// Once per value: Envoy removes every value at once, the SDK's
			// emulator one at a time; a second removal is a no-op.
			if err := proxywasm.RemoveHttpResponseHeader(name); err != nil {
				p.fault("removing an upstream cors header", err)
				return types.ActionContinue
			}
			overridden = true
		case policy.IsVaryHeader(name):
			vary = append(vary, kv[1])
		}
	}
	if overridden {
		p.increment(p.metrics.overridden[d.RuleIndex])
	}
	for _, hd := range d.Headers() {
		if err := proxywasm.ReplaceHttpResponseHeader(hd.Name, hd.Value); err != nil {
			p.fault("adding a cors header", err)
			return types.ActionContinue
		}
	}
	if err := mergeVary(vary, d.Vary); err != nil {
		p.fault("merging vary", err)
	}
	return types.ActionContinue
}

// mergeVary merges tokens into the response's Vary values, leaving a
// single Vary header.
func mergeVary(existing []string, tokens string) error {
	if tokens == "" {
		return nil
	}
	merged := policy.MergeVary(existing, tokens)
	switch {
	case len(existing) == 1 && existing[0] == merged:
		return nil
	case len(existing) <= 1:
		return proxywasm.ReplaceHttpResponseHeader("vary", merged)
	}
	for range existing {
		if err := proxywasm.RemoveHttpResponseHeader("vary"); err != nil {
			return err
		}
	}
	return proxywasm.AddHttpResponseHeader("vary", merged)
}
