package host

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds proxy_http_call, as Envoy's Context::httpCall serves it
// (source/extensions/common/wasm/context.cc), against upstreams the test
// scripts: the call goes to a cluster, the answer comes back later through
// proxy_on_http_call_response on the root context that made it, with the
// response's headers (HTTP_CALL_RESPONSE_HEADERS, map type 6), body
// (HTTP_CALL_RESPONSE_BODY, buffer type 4) and trailers (map type 7)
// readable during that callback only.

// HTTPCall is a request the guest sent with proxy_http_call.
type HTTPCall struct {
	Cluster  string
	Headers  []Header // as the guest serialized them, pseudo-headers included
	Body     []byte
	Trailers []Header
	Timeout  time.Duration
	At       time.Time // the plugin's time when it was sent
}

// Header returns the first value of a request header (any case), or "".
func (c *HTTPCall) Header(name string) string {
	for _, h := range c.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// HTTPAnswer is what a scripted upstream does with a call.
type HTTPAnswer struct {
	Status   int // ":status"; 0 means 200
	Headers  []Header
	Body     []byte
	Trailers []Header
	// Delay is how long the answer takes. A delay at or past the call's
	// timeout times the call out: Envoy's router then answers it with its
	// own 504 "upstream request timeout", which the guest receives as any
	// answer.
	Delay time.Duration
	// Reset fails the call (a connection reset, no healthy upstream host
	// to connect to): Envoy's onHttpCallFailure calls
	// proxy_on_http_call_response with no headers, body or trailers.
	Reset bool
}

// Upstream answers the HTTP calls of one cluster. It runs when the guest
// sends the call, with the VM locked: it must not call back into the VM.
type Upstream func(call HTTPCall) HTTPAnswer

// WithUpstream makes cluster a cluster the plugin may call, answered by
// u. A call to any other cluster is refused with BadArgument, as Envoy
// refuses a cluster its cluster manager does not know.
func WithUpstream(cluster string, u Upstream) Option {
	return func(o *options) {
		if o.upstreams == nil {
			o.upstreams = map[string]Upstream{}
		}
		o.upstreams[cluster] = u
	}
}

// pendingCall is a call sent and not yet answered.
type pendingCall struct {
	vm     *VM
	root   *root
	token  uint32
	due    time.Time
	answer HTTPAnswer
}

// proxyHttpCall implements proxy_http_call(upstream_data, upstream_size,
// headers_data, headers_size, body_data, body_size, trailers_data,
// trailers_size, timeout_milliseconds, return_callout_id): BadArgument for
// a negative timeout, an unknown cluster, or headers without :path,
// :method or :authority (Envoy's checks, in that order); else the call
// goes out and its token is written.
func (vm *VM) proxyHttpCall(s []uint64) {
	cluster, ok1 := vm.read(uint32(s[0]), uint32(s[1]))
	hb, ok2 := vm.read(uint32(s[2]), uint32(s[3]))
	body, ok3 := vm.read(uint32(s[4]), uint32(s[5]))
	tb, ok4 := vm.read(uint32(s[6]), uint32(s[7]))
	if !ok1 || !ok2 || !ok3 || !ok4 || !vm.mem.WriteUint32Le(uint32(s[9]), 0) {
		s[0] = statusInvalidMemoryAccess
		return
	}
	timeout := int32(uint32(s[8]))
	r := vm.currentRoot()
	if timeout < 0 || r == nil {
		s[0] = statusBadArgument
		return
	}
	u := vm.plugin.opts.upstreams[string(cluster)]
	if u == nil {
		s[0] = statusBadArgument
		return
	}
	headers, _ := DecodePairs(hb) // PairsUtil::toPairs: malformed pairs are none
	trailers, _ := DecodePairs(tb)
	call := HTTPCall{Cluster: string(cluster), Headers: headers, Body: append([]byte(nil), body...),
		Trailers: trailers, Timeout: time.Duration(timeout) * time.Millisecond, At: vm.plugin.clock.wall()}
	if call.Header(":path") == "" || call.Header(":method") == "" || call.Header(":authority") == "" {
		s[0] = statusBadArgument
		return
	}
	a := u(call)
	if a.Delay >= call.Timeout && call.Timeout > 0 {
		a = HTTPAnswer{Status: 504, Delay: call.Timeout, Body: []byte("upstream request timeout"),
			Headers: []Header{{Name: "content-length", Value: "24"}, {Name: "content-type", Value: "text/plain"}}}
	}
	vm.nextCallout++
	p := &pendingCall{vm: vm, root: r, token: vm.nextCallout, due: call.At.Add(a.Delay), answer: a}
	vm.plugin.mu.Lock()
	vm.plugin.calls = append(vm.plugin.calls, call)
	vm.plugin.pending = append(vm.plugin.pending, p)
	vm.plugin.mu.Unlock()
	if !vm.mem.WriteUint32Le(uint32(s[9]), p.token) {
		s[0] = statusInvalidMemoryAccess
		return
	}
	s[0] = statusOK
}

// answer delivers a call's answer through proxy_on_http_call_response, on
// the root context that sent it, unless it was retired meanwhile (Envoy
// cancels the calls of a context it destroys).
func (vm *VM) answer(c *pendingCall) error {
	p := vm.plugin
	p.mu.Lock()
	i := slices.Index(p.pending, c)
	if i < 0 {
		p.mu.Unlock()
		return nil
	}
	p.pending = slices.Delete(p.pending, i, i+1)
	p.mu.Unlock()

	vm.mu.Lock()
	defer vm.mu.Unlock()
	if vm.failed != nil || c.root.retired {
		return nil
	}
	a := c.answer
	var resp *callResponse
	var nh, nt, nb int
	if !a.Reset {
		status := a.Status
		if status == 0 {
			status = 200
		}
		hs := append([]Header{{Name: ":status", Value: strconv.Itoa(status)}}, a.Headers...)
		resp = &callResponse{headers: newHeaderMap(hs, 0), body: a.Body}
		nh, nb = len(hs), len(a.Body)
		if a.Trailers != nil {
			resp.trailers = newHeaderMap(a.Trailers, 0)
			nt = len(a.Trailers)
		}
	}
	vm.inRoot, vm.callResp = c.root, resp
	defer func() { vm.inRoot, vm.callResp = nil, nil }()
	vm.callsAnswered++
	return vm.callLocked(vm.fnCallResponse, uint64(c.root.id), uint64(c.token), uint64(nh), uint64(nb), uint64(nt))
}

// callResponse is the answer being delivered.
type callResponse struct {
	headers, trailers *headerMap
	body              []byte
}

// HTTPCalls returns every call the plugin's VMs sent, in order.
func (p *Plugin) HTTPCalls() []HTTPCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// PendingHTTPCalls returns how many calls await their answer.
func (p *Plugin) PendingHTTPCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// cancelCalls drops the calls of a root context Envoy destroys.
func (p *Plugin) cancelCalls(r *root) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = slices.DeleteFunc(p.pending, func(c *pendingCall) bool { return c.root == r })
}
