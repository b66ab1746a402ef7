package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/corsfilter/corsfilter/host"
	"github.com/corsfilter/corsfilter/policy"
)

// This file runs replay-input requests through a policy for test and diff:
// through the real cors.wasm in the Envoy-emulating host, as replay does,
// or through the policy code alone, as explain -json does.

// engineUsage describes the -engine flag of test and diff.
const engineUsage = "run requests through the real `cors.wasm` (wasm) in the Envoy-emulating host, as replay does, or through the policy code alone (policy)"

// result is what one request got: what the client receives, and the rule
// and the outcome the plugin counted (explain: decided).
type result struct {
	Forwarded bool
	Status    int
	Headers   [][2]string // lower-case names
	Rule      string
	Outcome   policy.Outcome
	Counted   bool // false when no outcome was counted (an internal fault)
}

// header returns the values of the header name (lower case), joined with
// ", ", and whether it is present.
func (r *result) header(name string) (string, bool) {
	var vals []string
	for _, h := range r.Headers {
		if h[0] == name {
			vals = append(vals, h[1])
		}
	}
	return strings.Join(vals, ", "), vals != nil
}

// expectation is the word a case expects for an outcome: allowed,
// denied, not_cors (no Origin, or a same-origin request) or untouched (no
// rule governs it: unmatched, or mode off).
func expectation(o policy.Outcome) string {
	switch {
	case o == policy.OutcomeUnmatched || o == policy.OutcomeOff:
		return "untouched"
	case o == policy.OutcomeNotCORS || o == policy.OutcomeSameOrigin:
		return "not_cors"
	case o.Denied():
		return "denied"
	}
	return "allowed"
}

// engine runs requests through one policy.
type engine interface {
	run(req host.Request, resp host.Response) (result, error)
	close()
}

// wasmEngine runs the real cors.wasm in one VM of the Envoy-emulating host.
type wasmEngine struct {
	ctx    context.Context
	plugin *host.Plugin
	vm     *host.VM
}

func (e *wasmEngine) run(req host.Request, resp host.Response) (result, error) {
	before := e.vm.Metrics()
	res, err := e.vm.RoundTrip(req, func(host.Request) host.Response { return resp })
	if err != nil {
		return result{}, fmt.Errorf("the plugin failed: %v", err)
	}
	out := result{Forwarded: res.Forwarded, Status: res.Status, Headers: make([][2]string, 0, len(res.Headers))}
	out.Rule, out.Outcome, out.Counted = countedOutcome(before, e.vm.Metrics())
	for _, h := range res.Headers {
		out.Headers = append(out.Headers, [2]string{strings.ToLower(h.Name), h.Value})
	}
	return out, nil
}

func (e *wasmEngine) close() { e.plugin.Close(e.ctx) }

// policyEngine decides with the policy code, and builds the response as
// explain -json does.
type policyEngine struct{ p *policy.Policy }

func (e *policyEngine) run(req host.Request, resp host.Response) (result, error) {
	f := explainFlags{
		method: req.Method, scheme: req.Scheme, authority: req.Authority, path: req.Path,
		route: req.Properties["xds.route_name"], upstreamStatus: resp.Status,
		headers: fromHost(req.Headers), upstreamHeaders: fromHost(resp.Headers),
	}
	if f.scheme == "" {
		f.scheme = "http" // as the host defaults it
	}
	for i := range f.headers {
		f.headers[i].Name = strings.ToLower(f.headers[i].Name)
	}
	d := e.p.Decide(f.request())
	eff := effect(&f, &d)
	return result{Forwarded: eff.Forwarded, Status: eff.Status, Headers: eff.Headers, Rule: d.Rule, Outcome: d.Outcome, Counted: true}, nil
}

func (e *policyEngine) close() {}

// newEngine loads the configuration in path (one CORS plugin configuration)
// into the named engine, "wasm" or "policy". On failure it prints why on
// stderr and returns nil and the exit code.
func newEngine(name, wasmPath, path string, stderr io.Writer) (engine, int) {
	switch name {
	case "policy":
		p, code := loadPolicyFile(path, nil, stderr)
		if p == nil {
			return nil, code
		}
		return &policyEngine{p: p}, 0
	case "wasm":
		ctx := context.Background()
		plugin, config, code := loadPlugin(ctx, wasmPath, path, stderr, host.WithMaxLogs(10_000))
		if plugin == nil {
			return nil, code
		}
		vm, code := startVM(ctx, plugin, config, stderr)
		if vm == nil {
			plugin.Close(ctx)
			return nil, code
		}
		return &wasmEngine{ctx: ctx, plugin: plugin, vm: vm}, 0
	}
	fmt.Fprintf(stderr, "corsctl: -engine %q: want wasm or policy\n", name)
	return nil, 2
}
