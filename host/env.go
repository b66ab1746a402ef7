package host

import (
	"context"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Status values of the proxy-wasm ABI (WasmResult).
const (
	statusOK                  = 0
	statusNotFound            = 1
	statusBadArgument         = 2
	statusInvalidMemoryAccess = 6
	statusUnimplemented       = 12
	statusCasMismatch         = 11
)

// Buffer types of the proxy-wasm ABI.
const (
	bufferRequestBody   = 0
	bufferResponseBody  = 1
	bufferCallResponse  = 4
	bufferVMConfig      = 6
	bufferPluginConfig  = 7
	bufferTypeMaxDefine = 8
)

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// hostFunc is one host function: its import name, wasm signature, parameter
// names, where Envoy allows it, and its implementation.
type hostFunc struct {
	module, name string
	params       []api.ValueType
	names        []string
	results      []api.ValueType
	allowInit    bool // allowed during _initialize
	allowAlloc   bool // allowed inside proxy_on_memory_allocate
	fn           func(vm *VM, stack []uint64)
}

// export adds f to b, wrapped with the restricted-callback check.
func export(b wazero.HostModuleBuilder, f hostFunc) {
	qname := f.module + "." + f.name
	impl, allowInit, allowAlloc := f.fn, f.allowInit, f.allowAlloc
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
			vm := ctx.Value(vmKey{}).(*VM)
			// Hosts since proxy-wasm-cpp-host PR #533 answer poll_oneoff
			// anywhere, allocation included; older ones refuse it there.
			if vm.allocDepth > 0 && !allowAlloc && !(qname == "wasi_snapshot_preview1.poll_oneoff" && vm.plugin.opts.poll == PollOneoffNoEvents) {
				vm.violate("proxy_on_memory_allocate", qname)
			}
			if vm.initializing && !allowInit {
				vm.violate("_initialize", qname)
			}
			impl(vm, stack)
		}), f.params, f.results).
		WithParameterNames(f.names...).
		WithName(f.name).
		Export(f.name)
}

// violate records a restricted-callback violation and traps the guest.
func (vm *VM) violate(phase, qname string) {
	v := Violation{Phase: phase, Function: qname}
	vm.violations = append(vm.violations, v)
	panic(fmt.Errorf("host: %s", v))
}

// params returns n i32 parameter types.
func params(n int) []api.ValueType {
	out := make([]api.ValueType, n)
	for i := range out {
		out[i] = i32
	}
	return out
}

// notEmulated is the body of the host functions Envoy has and this host
// does not emulate.
func notEmulated(_ *VM, stack []uint64) { stack[0] = statusUnimplemented }

// envFuncs lists the 29 env.proxy_* functions of ABI 0.2.1, each with a
// link to its specification.
var envFuncs = []hostFunc{
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_log
	{name: "proxy_log", names: []string{"log_level", "message_data", "message_size"}, allowInit: true, allowAlloc: true, fn: (*VM).proxyLog},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_send_local_response
	{name: "proxy_send_local_response", names: []string{"status_code", "status_code_details_data", "status_code_details_size", "body_data", "body_size", "headers_data", "headers_size", "grpc_status"}, fn: (*VM).proxySendLocalResponse},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_shared_data
	{name: "proxy_get_shared_data", names: []string{"key_data", "key_size", "return_value_data", "return_value_size", "return_cas"}, fn: (*VM).proxyGetSharedData},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_shared_data
	{name: "proxy_set_shared_data", names: []string{"key_data", "key_size", "value_data", "value_size", "cas"}, fn: (*VM).proxySetSharedData},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_register_shared_queue (not emulated)
	{name: "proxy_register_shared_queue", names: []string{"queue_name_data", "queue_name_size", "return_queue_id"}, fn: notEmulated},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_resolve_shared_queue (not emulated)
	{name: "proxy_resolve_shared_queue", names: []string{"vm_id_data", "vm_id_size", "queue_name_data", "queue_name_size", "return_queue_id"}, fn: notEmulated},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_dequeue_shared_queue (not emulated)
	{name: "proxy_dequeue_shared_queue", names: []string{"queue_id", "return_payload_data", "return_payload_size"}, fn: notEmulated},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_enqueue_shared_queue (not emulated)
	{name: "proxy_enqueue_shared_queue", names: []string{"queue_id", "payload_data", "payload_size"}, fn: notEmulated},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_value
	{name: "proxy_get_header_map_value", names: []string{"map_type", "key_data", "key_size", "return_value_data", "return_value_size"}, fn: (*VM).proxyGetHeaderMapValue},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_add_header_map_value
	{name: "proxy_add_header_map_value", names: []string{"map_type", "key_data", "key_size", "value_data", "value_size"}, fn: (*VM).proxyAddHeaderMapValue},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_replace_header_map_value
	{name: "proxy_replace_header_map_value", names: []string{"map_type", "key_data", "key_size", "value_data", "value_size"}, fn: (*VM).proxyReplaceHeaderMapValue},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_remove_header_map_value
	{name: "proxy_remove_header_map_value", names: []string{"map_type", "key_data", "key_size"}, fn: (*VM).proxyRemoveHeaderMapValue},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_header_map_pairs
	{name: "proxy_get_header_map_pairs", names: []string{"map_type", "return_map_data", "return_map_size"}, fn: (*VM).proxyGetHeaderMapPairs},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_header_map_pairs
	{name: "proxy_set_header_map_pairs", names: []string{"map_type", "map_data", "map_size"}, fn: (*VM).proxySetHeaderMapPairs},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_buffer_bytes
	{name: "proxy_get_buffer_bytes", names: []string{"buffer_type", "start", "max_size", "return_buffer_data", "return_buffer_size"}, fn: (*VM).proxyGetBufferBytes},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_buffer_bytes (not emulated)
	{name: "proxy_set_buffer_bytes", names: []string{"buffer_type", "start", "size", "buffer_data", "buffer_size"}, fn: notEmulated},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_continue_stream
	{name: "proxy_continue_stream", names: []string{"stream_type"}, fn: (*VM).proxyContinueStream},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_close_stream (not emulated)
	{name: "proxy_close_stream", names: []string{"stream_type"}, fn: notEmulated},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_http_call
	{name: "proxy_http_call", names: []string{"upstream_data", "upstream_size", "headers_data", "headers_size", "body_data", "body_size", "trailers_data", "trailers_size", "timeout_milliseconds", "return_callout_id"}, fn: (*VM).proxyHttpCall},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_call_foreign_function (not emulated)
	{name: "proxy_call_foreign_function", names: []string{"function_name_data", "function_name_size", "parameters_data", "parameters_size", "return_results_data", "return_results_size"}, fn: notEmulated},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_tick_period_milliseconds
	{name: "proxy_set_tick_period_milliseconds", names: []string{"tick_period"}, fn: (*VM).proxySetTickPeriod},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_effective_context
	{name: "proxy_set_effective_context", names: []string{"context_id"}, fn: (*VM).proxySetEffectiveContext},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_done (not emulated)
	{name: "proxy_done", fn: notEmulated},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_define_metric
	{name: "proxy_define_metric", names: []string{"metric_type", "metric_name_data", "metric_name_size", "return_metric_id"}, fn: (*VM).proxyDefineMetric},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_increment_metric
	{name: "proxy_increment_metric", names: []string{"metric_id", "offset"}, params: []api.ValueType{i32, i64}, fn: (*VM).proxyIncrementMetric},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_record_metric
	{name: "proxy_record_metric", names: []string{"metric_id", "value"}, params: []api.ValueType{i32, i64}, fn: (*VM).proxyRecordMetric},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_metric
	{name: "proxy_get_metric", names: []string{"metric_id", "return_value"}, fn: (*VM).proxyGetMetric},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_get_property
	{name: "proxy_get_property", names: []string{"property_path_data", "property_path_size", "return_property_value_data", "return_property_value_size"}, fn: (*VM).proxyGetProperty},
	// https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1#proxy_set_property
	{name: "proxy_set_property", names: []string{"property_path_data", "property_path_size", "property_value_data", "property_value_size"}, fn: (*VM).proxySetProperty},
}

// instantiateEnv instantiates the "env" host module with the 29 proxy_*
// functions. Every one returns an i32 status.
func instantiateEnv(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder("env")
	for _, f := range envFuncs {
		f.module = "env"
		if f.params == nil {
			f.params = params(len(f.names))
		}
		f.results = []api.ValueType{i32}
		export(b, f)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("host: env module: %w", err)
	}
	return nil
}

// read returns a view of guest memory; ok is false when out of range.
func (vm *VM) read(ptr, size uint32) ([]byte, bool) { return vm.mem.Read(ptr, size) }

// alloc asks the guest for size bytes through proxy_on_memory_allocate,
// under its restricted-callback rules. A failure traps the calling guest.
func (vm *VM) alloc(size uint32) uint32 {
	vm.allocDepth++
	vm.allocStack[0] = uint64(size)
	err := vm.fnMalloc.CallWithStack(vm.ctx, vm.allocStack[:])
	vm.allocDepth--
	if err != nil {
		panic(fmt.Errorf("host: proxy_on_memory_allocate: %w", err))
	}
	return uint32(vm.allocStack[0])
}

// copyOut copies data into guest memory allocated by the guest and writes
// its address and size at ptrPtr and sizePtr, as proxy-wasm-cpp-host's
// copyToPointerSize does: empty data writes a null address and size 0
// without allocating.
func (vm *VM) copyOut(ptrPtr, sizePtr uint32, data string) uint64 {
	var p uint32
	if len(data) > 0 {
		p = vm.alloc(uint32(len(data)))
		if p == 0 || !vm.mem.WriteString(p, data) {
			return statusInvalidMemoryAccess
		}
	}
	if !vm.mem.WriteUint32Le(ptrPtr, p) || !vm.mem.WriteUint32Le(sizePtr, uint32(len(data))) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

// proxyLog implements proxy_log(log_level, message_data, message_size).
func (vm *VM) proxyLog(s []uint64) {
	level := uint32(s[0])
	msg, ok := vm.read(uint32(s[1]), uint32(s[2]))
	if !ok {
		s[0] = statusInvalidMemoryAccess
		return
	}
	if level > uint32(LogCritical) {
		s[0] = statusBadArgument
		return
	}
	if LogLevel(level) < vm.plugin.opts.logLevel {
		s[0] = statusOK
		return
	}
	vm.log(LogLevel(level), string(msg))
	s[0] = statusOK
}

// proxySendLocalResponse implements proxy_send_local_response. As in Envoy,
// the reply is sent after the current callback returns; the stream then
// never reaches the upstream (or, on the response path, the reply replaces
// the response).
func (vm *VM) proxySendLocalResponse(s []uint64) {
	st := vm.cur
	if st == nil {
		s[0] = statusNotFound
		return
	}
	details, ok1 := vm.read(uint32(s[1]), uint32(s[2]))
	body, ok2 := vm.read(uint32(s[3]), uint32(s[4]))
	hb, ok3 := vm.read(uint32(s[5]), uint32(s[6]))
	if !ok1 || !ok2 || !ok3 {
		s[0] = statusInvalidMemoryAccess
		return
	}
	headers, err := DecodePairs(hb)
	if err != nil {
		s[0] = statusBadArgument
		return
	}
	for i := range headers {
		headers[i].Name = strings.ToLower(headers[i].Name)
	}
	st.local = &localReply{
		status:  int(uint32(s[0])),
		details: string(details),
		body:    append([]byte(nil), body...),
		headers: headers,
		grpc:    int32(uint32(s[7])),
	}
	s[0] = statusOK
}

// mapTypeMax is the last proxy-wasm header map type (HttpCallResponseTrailers);
// proxy-wasm-cpp-host answers BadArgument beyond it, before asking Envoy.
const mapTypeMax = 7

// headerMapOf returns the stream's header map of a proxy-wasm map type, or
// the status Envoy's getHeaderMapValue answers when it is not available:
// BadArgument, or NotFound in the access-log phase (Envoy's
// Context::getHeaderMapValue). The HTTP call response's headers and
// trailers (types 6 and 7) are available while its answer is delivered;
// the gRPC maps (4 and 5) never are: this host makes no gRPC calls.
func (vm *VM) headerMapOf(mapType uint32) (*headerMap, uint64) {
	st := vm.cur
	if mapType > mapTypeMax {
		return nil, statusBadArgument
	}
	var m *headerMap
	if resp := vm.callResp; resp != nil {
		switch mapType {
		case 6:
			m = resp.headers
		case 7:
			m = resp.trailers
		}
	}
	if st != nil {
		switch mapType {
		case 0:
			m = liveOnly(st, liveReqHeaders, st.reqHeaders)
		case 1:
			m = liveOnly(st, liveReqTrailers, st.reqTrailers)
		case 2:
			m = liveOnly(st, liveRespHeaders, st.respHeaders)
		case 3:
			m = liveOnly(st, liveRespTrailers, st.respTrailers)
		}
	}
	if m == nil {
		if st != nil && st.inLog {
			return nil, statusNotFound
		}
		return nil, statusBadArgument
	}
	return m, statusOK
}

// liveOnly returns m when the running callback may use it, else nil.
func liveOnly(st *Stream, l live, m *headerMap) *headerMap {
	if st.live&l == 0 {
		return nil
	}
	return m
}

// proxyGetHeaderMapValue implements proxy_get_header_map_value: the first
// value of the (case-insensitive) key, or NotFound.
func (vm *VM) proxyGetHeaderMapValue(s []uint64) {
	m, status := vm.headerMapOf(uint32(s[0]))
	if m == nil {
		s[0] = status
		return
	}
	key, ok := vm.read(uint32(s[1]), uint32(s[2]))
	if !ok {
		s[0] = statusInvalidMemoryAccess
		return
	}
	v, found := m.get(key)
	if !found {
		s[0] = statusNotFound
		return
	}
	s[0] = vm.copyOut(uint32(s[3]), uint32(s[4]), v)
}

// keyValue reads the key and value arguments of add and replace.
func (vm *VM) keyValue(s []uint64) (string, string, bool) {
	k, ok1 := vm.read(uint32(s[1]), uint32(s[2]))
	v, ok2 := vm.read(uint32(s[3]), uint32(s[4]))
	return string(k), string(v), ok1 && ok2
}

// proxyAddHeaderMapValue implements proxy_add_header_map_value (addCopy).
func (vm *VM) proxyAddHeaderMapValue(s []uint64) { vm.setHeader(s, (*headerMap).add) }

// proxyReplaceHeaderMapValue implements proxy_replace_header_map_value
// (setCopy: one header of that name remains, with the new value).
func (vm *VM) proxyReplaceHeaderMapValue(s []uint64) { vm.setHeader(s, (*headerMap).replace) }

// setHeader reads the map, key and value arguments of add and replace and
// applies set.
func (vm *VM) setHeader(s []uint64, set func(m *headerMap, k, v string)) {
	m, status := vm.headerMapOf(uint32(s[0]))
	if m == nil {
		s[0] = status
		return
	}
	k, v, ok := vm.keyValue(s)
	if !ok {
		s[0] = statusInvalidMemoryAccess
		return
	}
	set(m, k, v)
	s[0] = statusOK
}

// proxyRemoveHeaderMapValue implements proxy_remove_header_map_value: every
// header of that name goes.
func (vm *VM) proxyRemoveHeaderMapValue(s []uint64) {
	m, status := vm.headerMapOf(uint32(s[0]))
	if m == nil {
		s[0] = status
		return
	}
	k, ok := vm.read(uint32(s[1]), uint32(s[2]))
	if !ok {
		s[0] = statusInvalidMemoryAccess
		return
	}
	m.remove(string(k))
	s[0] = statusOK
}

// proxyGetHeaderMapPairs implements proxy_get_header_map_pairs with
// Envoy's serialization (see [EncodePairs]). A map that is not available
// (outside its callback, or a map type this host never fills) is an empty
// map and OK, not an error: Envoy's Context::getHeaderMapPairs serializes
// whatever getConstMap returns, and headerMapToPairs turns no map into no
// pairs. Only a type beyond the last is BadArgument (proxy-wasm-cpp-host's
// exports.cc checks it first).
func (vm *VM) proxyGetHeaderMapPairs(s []uint64) {
	if uint32(s[0]) > mapTypeMax {
		s[0] = statusBadArgument
		return
	}
	m, _ := vm.headerMapOf(uint32(s[0]))
	if m == nil || len(m.h) == 0 {
		// As proxy-wasm-cpp-host's getPairs: an empty map is a null
		// pointer and size 0, not a serialized count of 0 (the SDK's
		// DeserializeMap panics on it, as it would under Envoy).
		s[0] = vm.copyOut(uint32(s[1]), uint32(s[2]), "")
		return
	}
	vm.scratch = appendPairs(vm.scratch[:0], m.h)
	p := vm.alloc(uint32(len(vm.scratch)))
	if p == 0 || !vm.mem.Write(p, vm.scratch) ||
		!vm.mem.WriteUint32Le(uint32(s[1]), p) || !vm.mem.WriteUint32Le(uint32(s[2]), uint32(len(vm.scratch))) {
		s[0] = statusInvalidMemoryAccess
		return
	}
	s[0] = statusOK
}

// proxySetHeaderMapPairs implements proxy_set_header_map_pairs: the map is
// replaced by the pairs.
func (vm *VM) proxySetHeaderMapPairs(s []uint64) {
	m, status := vm.headerMapOf(uint32(s[0]))
	if m == nil {
		s[0] = status
		return
	}
	b, ok := vm.read(uint32(s[1]), uint32(s[2]))
	if !ok {
		s[0] = statusInvalidMemoryAccess
		return
	}
	h, err := DecodePairs(b)
	if err != nil {
		s[0] = statusBadArgument
		return
	}
	m.set(h)
	s[0] = statusOK
}

// proxyGetBufferBytes implements proxy_get_buffer_bytes as
// proxy-wasm-cpp-host's exports.cc does: NotFound when the buffer is not
// available (the plugin configuration outside proxy_on_configure), the
// length clipped to the buffer, and, when nothing is left (an empty buffer,
// or start at or beyond its end), OK with a null address and size 0
// written. The VM configuration is available at any time (Envoy's
// Context::getBuffer returns it whenever asked).
func (vm *VM) proxyGetBufferBytes(s []uint64) {
	typ, start, length := uint32(s[0]), uint64(uint32(s[1])), uint64(uint32(s[2]))
	if typ > bufferTypeMaxDefine {
		s[0] = statusBadArgument
		return
	}
	var buf []byte
	found := false
	switch typ {
	case bufferPluginConfig:
		buf, found = vm.pluginConfig, vm.inConfigure
	case bufferVMConfig:
		buf, found = vm.plugin.opts.vmConfig, true
	case bufferRequestBody:
		if vm.cur != nil && vm.cur.live&liveReqBody != 0 {
			buf, found = vm.cur.reqBody, true
		}
	case bufferResponseBody:
		if vm.cur != nil && vm.cur.live&liveRespBody != 0 {
			buf, found = vm.cur.respBody, true
		}
	case bufferCallResponse:
		if vm.callResp != nil {
			buf, found = vm.callResp.body, true
		}
	}
	if !found {
		s[0] = statusNotFound
		return
	}
	switch {
	case start > uint64(len(buf)):
		length = 0
	case start+length > uint64(len(buf)):
		length = uint64(len(buf)) - start
	}
	if length == 0 {
		s[0] = vm.copyOut(uint32(s[3]), uint32(s[4]), "")
		return
	}
	s[0] = vm.copyOut(uint32(s[3]), uint32(s[4]), string(buf[start:start+length]))
}

// proxyContinueStream implements proxy_continue_stream. Streams here never
// stay paused (a pause without a local reply fails the stream), so it only
// validates the stream type.
func (vm *VM) proxyContinueStream(s []uint64) {
	if vm.cur == nil || uint32(s[0]) > 1 {
		s[0] = statusBadArgument
		return
	}
	s[0] = statusOK
}

// proxySetEffectiveContext implements proxy_set_effective_context for a
// root context not yet deleted and the current stream (BadArgument
// otherwise).
func (vm *VM) proxySetEffectiveContext(s []uint64) {
	id := uint32(s[0])
	if vm.cur != nil && vm.cur.id == id {
		s[0] = statusOK
		return
	}
	for _, r := range vm.roots {
		if r.id == id && !r.retired {
			s[0] = statusOK
			return
		}
	}
	s[0] = statusBadArgument
}

// metricOf returns the metric of a metric ID, or nil.
func (vm *VM) metricOf(id uint32) *metric {
	if id == 0 || int(id) > len(vm.metricIDs) {
		return nil
	}
	return vm.metricIDs[id-1]
}

// proxyDefineMetric implements proxy_define_metric as Envoy's
// Context::defineMetric does: every definition gets a new metric ID, and
// IDs defined under one name and type share one metric (Envoy looks the
// stat up by name in its scope). A root context that replaces another
// ([VM.Reconfigure]) defines its metrics again, and counts on: the old
// root's IDs stay valid for its streams in flight.
func (vm *VM) proxyDefineMetric(s []uint64) {
	kind := uint32(s[0])
	name, ok := vm.read(uint32(s[1]), uint32(s[2]))
	if !ok {
		s[0] = statusInvalidMemoryAccess
		return
	}
	if kind > 2 {
		s[0] = statusBadArgument
		return
	}
	key := fmt.Sprintf("%d/%s", kind, name)
	m := vm.metricNames[key]
	if m == nil {
		m = &metric{name: string(name), kind: kind}
		vm.metrics = append(vm.metrics, m)
		vm.metricNames[key] = m
	}
	vm.metricIDs = append(vm.metricIDs, m)
	id := uint32(len(vm.metricIDs))
	if !vm.mem.WriteUint32Le(uint32(s[3]), id) {
		s[0] = statusInvalidMemoryAccess
		return
	}
	s[0] = statusOK
}

// proxyIncrementMetric implements proxy_increment_metric: counters only go
// up (BadArgument otherwise), gauges both ways, histograms refuse.
func (vm *VM) proxyIncrementMetric(s []uint64) {
	m := vm.metricOf(uint32(s[0]))
	offset := int64(s[1])
	switch {
	case m == nil:
		s[0] = statusNotFound
	case m.kind == 0 && offset > 0, m.kind == 1:
		m.value += uint64(offset)
		s[0] = statusOK
	default:
		s[0] = statusBadArgument
	}
}

// proxyRecordMetric implements proxy_record_metric: adds to a counter, sets
// a gauge, records a histogram value.
func (vm *VM) proxyRecordMetric(s []uint64) {
	m := vm.metricOf(uint32(s[0]))
	v := s[1]
	if m == nil {
		s[0] = statusNotFound
		return
	}
	switch m.kind {
	case 0:
		m.value += v
	case 1:
		m.value = v
	default:
		m.value++
		m.sum += v
	}
	s[0] = statusOK
}

// proxyGetMetric implements proxy_get_metric for counters and gauges.
func (vm *VM) proxyGetMetric(s []uint64) {
	m := vm.metricOf(uint32(s[0]))
	switch {
	case m == nil:
		s[0] = statusNotFound
	case m.kind == 2:
		s[0] = statusBadArgument
	case !vm.mem.WriteUint64Le(uint32(s[1]), m.value):
		s[0] = statusInvalidMemoryAccess
	default:
		s[0] = statusOK
	}
}

// propertyPath turns a "\x00"-separated property path into the dotted form
// used as key by [Request.Properties] and [WithProperty].
func propertyPath(b []byte) string {
	return strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", ".")
}

// proxyGetProperty implements proxy_get_property; NotFound for an unknown
// path.
func (vm *VM) proxyGetProperty(s []uint64) {
	p, ok := vm.read(uint32(s[0]), uint32(s[1]))
	if !ok {
		s[0] = statusInvalidMemoryAccess
		return
	}
	v, found := vm.property(propertyPath(p))
	if !found {
		s[0] = statusNotFound
		return
	}
	s[0] = vm.copyOut(uint32(s[2]), uint32(s[3]), v)
}

// proxySetProperty implements proxy_set_property for the current stream (as
// Envoy's filter state); NotFound outside a stream.
func (vm *VM) proxySetProperty(s []uint64) {
	st := vm.cur
	if st == nil {
		s[0] = statusNotFound
		return
	}
	p, ok1 := vm.read(uint32(s[0]), uint32(s[1]))
	v, ok2 := vm.read(uint32(s[2]), uint32(s[3]))
	if !ok1 || !ok2 {
		s[0] = statusInvalidMemoryAccess
		return
	}
	if st.setProps == nil {
		st.setProps = map[string]string{}
	}
	st.setProps[propertyPath(p)] = string(v)
	s[0] = statusOK
}
