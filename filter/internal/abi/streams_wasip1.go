//go:build wasip1

package abi

import "unsafe"

// Streams handles the plugin's HTTP streams. The SDK keeps the VM and the
// plugin contexts (configuration, ticks, metric definitions), but its
// per-stream path allocates on every stream (a context object, a map entry,
// a slice per header map read, a copy per header written), and on an Envoy
// whose host predates the poll_oneoff fix every garbage collection is a
// hazard (docs: wasm-abi.md, golang/go#78513). So the ABI layer hands every
// callback of a stream context to Streams directly, and the plugin answers
// with the raw calls below, which allocate nothing.
type Streams interface {
	// Create starts stream contextID of plugin context pluginID.
	Create(contextID, pluginID uint32)
	// Has reports whether contextID is a stream Create started and Delete
	// has not ended.
	Has(contextID uint32) bool
	// RequestHeaders and ResponseHeaders return a proxy-wasm action
	// (0 Continue, 1 Pause); ok is false, and nothing done, when contextID
	// is not a stream of the handler.
	RequestHeaders(contextID uint32) (action uint32, ok bool)
	ResponseHeaders(contextID uint32) (action uint32, ok bool)
	// Delete ends the stream; it reports false when contextID is not a
	// stream of the handler.
	Delete(contextID uint32) bool
}

// streams is the plugin's handler; nil until HandleStreams, in which case
// the SDK handles streams too.
var streams Streams

// HandleStreams makes s the handler of every HTTP stream. Call it from
// init, before the host creates any context.
func HandleStreams(s Streams) { streams = s }

// ours reports whether contextID is a stream of the handler.
func ours(contextID uint32) bool { return streams != nil && streams.Has(contextID) }

// Header map types and statuses of the proxy-wasm ABI.
const (
	MapRequestHeaders  = 0
	MapResponseHeaders = 2

	StatusOK       = 0
	StatusNotFound = 1
)

// Log levels of the proxy-wasm ABI.
const (
	LogDebug = 1
	LogWarn  = 3
)

// HeaderPairs returns the serialized pairs of a header map (a count, the
// sizes, then each name and value followed by a NUL), as the host wrote
// them. During a stream's header callback they live in the ABI layer's
// arena: valid until the callback returns.
func HeaderPairs(mapType uint32) ([]byte, uint32) {
	o := streamCall()
	return o.result(proxyGetHeaderMapPairs(mapType, &o.data, &o.size))
}

// Property returns the value of a property, its path's parts joined by NUL;
// like HeaderPairs, it lives until the callback returns.
func Property(path string) ([]byte, uint32) {
	o := streamCall()
	return o.result(proxyGetProperty(unsafe.StringData(path), uint32(len(path)), &o.data, &o.size))
}

// streamOut holds the out-parameters of the stream path's data calls. A
// stream callback makes them one at a time, and the host's calls back into
// proxy_on_memory_allocate make no host call: they never nest, so one
// static slot serves them all, without the enter and leave of the SDK's
// path, which cost a third of reading a header map in wasm.
var streamOut out

func streamCall() *out {
	streamOut.data, streamOut.size = 0, 0
	return &streamOut
}

// result claims the buffer the host returned, as out.bytes does, and then
// releases the pending allocations: no host call is in flight.
func (o *out) result(status uint32) ([]byte, uint32) {
	var b []byte
	if status == StatusOK {
		p, n, ok := claim(o.data, o.size)
		switch {
		case !ok:
			status = statusInternalFailure
		case p != nil:
			b = unsafe.Slice(p, n)
		}
	}
	if depth == 0 && len(pending) > 0 {
		releasePending()
	}
	return b, status
}

// RemoveHeader removes every value of a header.
func RemoveHeader(mapType uint32, name string) uint32 {
	return proxyRemoveHeaderMapValue(mapType, unsafe.StringData(name), uint32(len(name)))
}

// ReplaceHeader sets a header, replacing its values.
func ReplaceHeader(mapType uint32, name, value string) uint32 {
	return proxyReplaceHeaderMapValue(mapType, unsafe.StringData(name), uint32(len(name)), unsafe.StringData(value), uint32(len(value)))
}

// SendLocalResponse answers the stream locally with a status, serialized
// header pairs (see HeaderPairs) and a body.
func SendLocalResponse(status uint32, pairs []byte, body string) uint32 {
	var hp *byte
	if len(pairs) > 0 {
		hp = &pairs[0]
	}
	return proxySendLocalResponse(status, nil, 0, unsafe.StringData(body), uint32(len(body)), hp, uint32(len(pairs)), -1)
}

// Log writes a log line.
func Log(level uint32, msg []byte) {
	var p *byte
	if len(msg) > 0 {
		p = &msg[0]
	}
	proxyLog(level, p, uint32(len(msg)))
}
