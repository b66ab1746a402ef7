package host

import (
	"errors"
	"fmt"
	"github.com/tetratelabs/wazero/api"
	"strconv"
	"strings"
)

// Request is a downstream request as Envoy's codec hands it to the filter
// chain.
type Request struct {
	Method    string // ":method"
	Scheme    string // ":scheme"; "" means "http"
	Authority string // ":authority"
	Path      string // ":path", with the query
	// Headers are the regular headers, in order. Names are lower-cased, as
	// Envoy's codecs do.
	Headers []Header
	// Body, when not empty, is delivered through proxy_on_request_body.
	Body []byte
	// Trailers, when not nil, are delivered through
	// proxy_on_request_trailers.
	Trailers []Header
	// Properties are stream properties by path, segments joined by "."
	// (e.g. "xds.route_name"). request.method, request.scheme, request.host,
	// request.path and request.url_path come from the fields above.
	Properties map[string]string
	// ResponseHeadersToAdd are the response_headers_to_add of the route the
	// request takes, then of its virtual host, in the order Envoy applies
	// them. Envoy adds them to every response of the stream before the
	// plugin's response callback sees it: to the upstream's (the router's
	// finalizeResponseHeaders) and to a local reply, the plugin's own
	// included (sendLocalReply applies them before the replying filter's
	// headers).
	ResponseHeadersToAdd []HeaderToAdd
	// EarlierReply, when not nil, is the local reply of a filter placed
	// before the plugin (an RBAC 403, an ext_authz 401): its status, its
	// headers and its body, which Envoy builds into a response with the
	// route's headers. The plugin never sees the request or the response:
	// Envoy's wasm filter skips its encode callbacks for a stream whose
	// request callback never ran (in_vm_context_created_ is false), and
	// creates the stream's context only for the access log (Context::log
	// calls onCreate), so proxy_on_context_create, proxy_on_log,
	// proxy_on_done and proxy_on_delete are all the plugin gets.
	EarlierReply *Response
}

// Response is an upstream response, or a local reply of a later filter (a
// JWT 401, a rate-limit 429): both travel the response path.
type Response struct {
	Status   int      // ":status"; 0 means 200
	Headers  []Header // regular headers, in order
	Body     []byte   // delivered through proxy_on_response_body when not empty
	Trailers []Header // delivered through proxy_on_response_trailers when not nil
}

// Result is what the client receives, and how.
type Result struct {
	Status  int      // the final ":status"
	Headers []Header // the final response headers, lower case, without ":status"
	Body    []byte   // the upstream's body, or the local reply's
	// Forwarded: the request reached the upstream. Neither Forwarded nor
	// LocalReply: an earlier filter answered ([Request.EarlierReply]).
	Forwarded bool
	// LocalReply is set when the plugin answered with
	// proxy_send_local_response; Details is its status code details.
	LocalReply bool
	Details    string
}

// Header returns the first value of the response header name (any case).
func (r *Result) Header(name string) (string, bool) {
	m := headerMap{h: r.Headers}
	return m.lookup(name)
}

// Values returns every value of the response header name (any case).
func (r *Result) Values(name string) []string {
	var out []string
	for _, kv := range r.Headers {
		if strings.EqualFold(kv.Name, name) {
			out = append(out, kv.Value)
		}
	}
	return out
}

// localReply is a pending proxy_send_local_response.
type localReply struct {
	status  int
	details string
	body    []byte
	headers []Header
	grpc    int32
}

// Stream is one HTTP stream on a VM, between [VM.StartStream] and
// [Stream.Finish] (or [Stream.Close]). Other streams may run on the same VM
// between its phases, as on an Envoy worker.
type Stream struct {
	vm           *VM
	id           uint32
	root         *root // the root context (configuration) the stream belongs to
	earlier      bool  // an earlier filter answered: the plugin has no context yet
	req          Request
	reqHeaders   *headerMap
	reqTrailers  *headerMap
	respHeaders  *headerMap
	respTrailers *headerMap
	reqBody      []byte
	respBody     []byte
	setProps     map[string]string
	local        *localReply
	live         live // what the running callback may read and change
	inLog        bool
	inResponse   bool
	forwarded    bool
	ended        bool
}

// live says which header maps and bodies the running callback may use. As
// in Envoy, each exists for the plugin only during its own callback (and
// while a pause on it lasts): a plugin that reads the request headers from
// its response callback gets BadArgument here, as it would there. During
// proxy_on_log the headers and the response trailers are readable again, as
// Envoy's access-log maps (Context::getConstMap has no request trailers
// there).
type live uint8

const (
	liveReqHeaders live = 1 << iota
	liveReqBody
	liveReqTrailers
	liveRespHeaders
	liveRespBody
	liveRespTrailers
	liveLog = liveReqHeaders | liveRespHeaders | liveRespTrailers
)

// callback runs one per-stream callback with l live, and reports whether
// it paused without a local reply of its own (a local reply sent during the
// callback ends the stream, and Envoy pauses it whatever the plugin says).
func (s *Stream) callback(fn api.Function, l live, args ...uint64) (paused bool, err error) {
	before := s.local
	s.live = l
	defer func() { s.live = 0 }()
	action, err := s.vm.call1(fn, args...)
	if err != nil {
		return false, err
	}
	return uint32(action) != 0 && s.local == before, nil
}

// ID returns the stream's context ID.
func (s *Stream) ID() uint32 { return s.id }

// RootID returns the ID of the root context the stream belongs to: the
// configuration it started under, which it keeps until it ends.
func (s *Stream) RootID() uint32 { return s.root.id }

// Forwarding reports whether the request must go to the upstream: false when
// the plugin (or, with [Request.EarlierReply], an earlier filter) answered
// locally.
func (s *Stream) Forwarding() bool { return s.local == nil && !s.earlier && !s.ended }

// UpstreamRequest returns the request as it leaves for the upstream, with
// the plugin's changes to the request headers applied.
func (s *Stream) UpstreamRequest() Request {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	r := s.req
	m := s.reqHeaders
	r.Method, _ = m.lookup(":method")
	r.Scheme, _ = m.lookup(":scheme")
	r.Authority, _ = m.lookup(":authority")
	r.Path, _ = m.lookup(":path")
	r.Headers = m.regular()
	return r
}

// errPaused reports a stream the plugin paused and never resumed: in Envoy
// it would hang until a timeout.
var errPaused = errors.New("host: the plugin paused the stream without a local reply and never resumed it")

// StartStream starts a stream: proxy_on_context_create(id, root),
// proxy_on_request_headers, and proxy_on_request_body /
// proxy_on_request_trailers when the request has them (none of them when
// an earlier filter answers, see [Request.EarlierReply]). When it returns
// without error, call [Stream.Finish] (or [Stream.Close]) exactly once.
func (vm *VM) StartStream(req Request) (*Stream, error) {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if vm.failed != nil {
		return nil, vm.failed
	}
	if !vm.configured {
		return nil, errors.New("host: VM not configured")
	}
	if req.Scheme == "" {
		req.Scheme = "http"
	}
	s := &Stream{vm: vm, id: vm.nextID, root: vm.root, req: req, reqBody: req.Body}
	vm.nextID++
	vm.streams++
	s.root.inFlight++
	m := &headerMap{h: make([]Header, 0, len(req.Headers)+4), inline: vm.inline(requestInline)}
	m.h = append(m.h, Header{":authority", req.Authority}, Header{":path", req.Path},
		Header{":method", req.Method}, Header{":scheme", req.Scheme})
	for _, kv := range req.Headers {
		m.add(kv.Name, kv.Value)
	}
	s.reqHeaders = m
	if req.Trailers != nil {
		s.reqTrailers = newHeaderMap(req.Trailers, 0)
	}
	if req.EarlierReply != nil {
		s.earlier = true
		return s, nil
	}
	if err := vm.callLocked(vm.fnContextCreate, uint64(s.id), uint64(s.root.id)); err != nil {
		return nil, err
	}
	vm.cur = s
	defer func() { vm.cur = nil }()
	eos := len(req.Body) == 0 && req.Trailers == nil
	paused, err := s.callback(vm.fnReqHeaders, liveReqHeaders, uint64(s.id), uint64(len(m.h)), b2u(eos))
	if err != nil {
		return nil, err
	}
	if paused {
		return nil, errPaused
	}
	if s.local == nil && len(req.Body) > 0 {
		if paused, err = s.callback(vm.fnReqBody, liveReqBody, uint64(s.id), uint64(len(req.Body)), b2u(req.Trailers == nil)); err != nil {
			return nil, err
		}
		if paused {
			return nil, errPaused
		}
	}
	if s.local == nil && req.Trailers != nil {
		if paused, err = s.callback(vm.fnReqTrailers, liveReqTrailers, uint64(s.id), uint64(len(s.reqTrailers.h))); err != nil {
			return nil, err
		}
		if paused {
			return nil, errPaused
		}
	}
	return s, nil
}

// inline returns the inline header set of a map, or nil when the VM keeps
// repeated lines apart ([WithHeaderMerging]).
func (vm *VM) inline(set map[string]bool) map[string]bool {
	if vm.plugin.opts.separate {
		return nil
	}
	return set
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Finish runs the response path and ends the stream. With a local reply
// pending (Forwarding is false) resp is ignored and the local reply is the
// response; otherwise resp is the upstream's response (nil means 200 without
// headers). Either gets the route's headers ([Request.ResponseHeadersToAdd])
// as Envoy adds them. The response headers go through
// proxy_on_response_headers (and the body and trailers through their
// callbacks), then proxy_on_log, proxy_on_done and proxy_on_delete run. A
// local reply sent during the response path replaces the response. After an
// earlier filter's reply, no response callback runs.
func (s *Stream) Finish(resp *Response) (Result, error) {
	vm := s.vm
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if s.ended {
		return Result{}, errors.New("host: stream already ended")
	}
	if vm.failed != nil {
		s.ended = true
		return Result{}, vm.failed
	}
	res := Result{}
	var r Response
	route, inline := s.req.ResponseHeadersToAdd, vm.inline(responseInline)
	switch {
	case s.earlier:
		r = *s.req.EarlierReply
		s.respHeaders = localReplyMap(inline, statusOr200(r.Status), route, r.Headers, r.Body)
	case s.local != nil:
		r = Response{Status: s.local.status, Body: s.local.body}
		s.respHeaders = localReplyMap(inline, r.Status, route, s.local.headers, r.Body)
	default:
		if resp != nil {
			r = *resp
		}
		res.Forwarded = true
		s.forwarded = true
		s.respHeaders = responseMap(inline, statusOr200(r.Status), route, r.Headers)
	}
	if r.Trailers != nil {
		s.respTrailers = newHeaderMap(r.Trailers, 0)
	}
	s.respBody = r.Body
	if !s.earlier {
		localBefore := s.local
		vm.cur, s.inResponse = s, true
		err := s.runResponse(r)
		vm.cur, s.inResponse = nil, false
		if err != nil {
			s.ended = true
			return Result{}, err
		}
		if s.local != localBefore {
			// A local reply sent on the response path replaces the response.
			s.respHeaders = localReplyMap(inline, s.local.status, route, s.local.headers, s.local.body)
			s.respBody = s.local.body
		}
		if s.local != nil {
			res.LocalReply, res.Details = true, s.local.details
		}
	}
	if err := s.end(); err != nil {
		return Result{}, err
	}
	st, ok := s.respHeaders.lookup(":status")
	code, perr := strconv.Atoi(st)
	if !ok || perr != nil || code < 100 || code > 999 {
		return Result{}, fmt.Errorf("host: the plugin left an invalid :status %q", st)
	}
	res.Status, res.Headers, res.Body = code, s.respHeaders.regular(), s.respBody
	return res, nil
}

func (s *Stream) runResponse(r Response) error {
	vm := s.vm
	eos := len(r.Body) == 0 && r.Trailers == nil
	// A Pause here is a stall in Envoy, even on the plugin's own local
	// reply; only a new local reply sent from this callback excuses it.
	paused, err := s.callback(vm.fnRespHeaders, liveRespHeaders, uint64(s.id), uint64(len(s.respHeaders.h)), b2u(eos))
	if err != nil {
		return err
	}
	if paused {
		return errPaused
	}
	if len(r.Body) > 0 {
		if paused, err = s.callback(vm.fnRespBody, liveRespBody, uint64(s.id), uint64(len(r.Body)), b2u(r.Trailers == nil)); err != nil {
			return err
		}
		if paused {
			return errPaused
		}
	}
	if r.Trailers != nil {
		if paused, err = s.callback(vm.fnRespTrailers, liveRespTrailers, uint64(s.id), uint64(len(s.respTrailers.h))); err != nil {
			return err
		}
		if paused {
			return errPaused
		}
	}
	return nil
}

// end runs proxy_on_log, then proxy_on_done and proxy_on_delete, in
// Envoy's order: the connection manager's doDeferredStreamDestroy writes the
// access logs (the plugin's Context::log, which calls proxy_on_log) before
// it destroys the filters (Context::onDestroy: proxy_on_done, then
// proxy_on_delete). proxy_on_done's answer is ignored for a stream, as
// there.
func (s *Stream) end() error {
	vm := s.vm
	s.ended = true
	if s.earlier {
		// Envoy creates the context of a stream an earlier filter answered
		// only to log it (Context::log calls onCreate).
		if err := vm.callLocked(vm.fnContextCreate, uint64(s.id), uint64(s.root.id)); err != nil {
			return err
		}
	}
	vm.cur = s
	defer func() { vm.cur, s.inLog, s.live = nil, false, 0 }()
	s.inLog, s.live = true, liveLog
	if err := vm.callLocked(vm.fnLog, uint64(s.id)); err != nil {
		return err
	}
	s.inLog, s.live = false, 0
	if _, err := vm.call1(vm.fnDone, uint64(s.id)); err != nil {
		return err
	}
	if err := vm.callLocked(vm.fnDelete, uint64(s.id)); err != nil {
		return err
	}
	vm.cur = nil
	return vm.streamEnded(s.root)
}

// Close ends a stream that will not be finished (the downstream went away):
// proxy_on_log, proxy_on_done and proxy_on_delete, as Envoy does on a
// reset. Closing an ended stream does nothing.
func (s *Stream) Close() error {
	s.vm.mu.Lock()
	defer s.vm.mu.Unlock()
	if s.ended {
		return nil
	}
	if s.vm.failed != nil {
		s.ended = true
		return s.vm.failed
	}
	return s.end()
}

// statusOr200 is the status of a response whose Status may be 0 (200).
func statusOr200(status int) int {
	if status == 0 {
		return 200
	}
	return status
}

// RoundTrip runs one whole stream, as a client sees it: [VM.StartStream],
// then upstream (unless the plugin answered locally) with the request as
// forwarded, then [Stream.Finish]. A nil upstream answers 200 without
// headers.
func (vm *VM) RoundTrip(req Request, upstream func(Request) Response) (Result, error) {
	s, err := vm.StartStream(req)
	if err != nil {
		return Result{}, err
	}
	if !s.Forwarding() {
		return s.Finish(nil)
	}
	var resp Response
	if upstream != nil {
		resp = upstream(s.UpstreamRequest())
	}
	return s.Finish(&resp)
}

// property returns a stream property, or a VM-wide one, by dotted path.
func (vm *VM) property(path string) (string, bool) {
	if s := vm.cur; s != nil {
		if v, ok := s.setProps[path]; ok {
			return v, true
		}
		switch path {
		case "request.method":
			return s.req.Method, true
		case "request.scheme":
			return s.req.Scheme, true
		case "request.host":
			return s.req.Authority, true
		case "request.path":
			return s.req.Path, true
		case "request.url_path":
			p, _, _ := strings.Cut(s.req.Path, "?")
			return p, true
		}
		if v, ok := s.req.Properties[path]; ok {
			return v, true
		}
	}
	v, ok := vm.plugin.opts.properties[path]
	return v, ok
}
