//go:build wasip1

package abi

import (
	_ "unsafe" // for go:linkname

	// The public package imports proxywasm/internal, so both are initialised
	// before this package's init registers the host (a linkname alone
	// creates no init dependency).
	_ "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
)

// The SDK's unexported callbacks in proxywasm/internal (abi_callback_*.go),
// with their exact signatures; the SDK's named types (types.Action, ...) are
// uint32 or bool underneath. drift_test.go keeps these in step with the SDK.

//go:linkname sdkOnVMStart github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnVMStart
func sdkOnVMStart(vmContextID uint32, vmConfigurationSize int) bool

//go:linkname sdkOnConfigure github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnConfigure
func sdkOnConfigure(pluginContextID uint32, pluginConfigurationSize int) bool

//go:linkname sdkOnNewConnection github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnNewConnection
func sdkOnNewConnection(contextID uint32) uint32

//go:linkname sdkOnDownstreamData github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnDownstreamData
func sdkOnDownstreamData(contextID uint32, dataSize int, endOfStream bool) uint32

//go:linkname sdkOnDownstreamConnectionClose github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnDownstreamConnectionClose
func sdkOnDownstreamConnectionClose(contextID uint32, peerType uint32)

//go:linkname sdkOnUpstreamData github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnUpstreamData
func sdkOnUpstreamData(contextID uint32, dataSize int, endOfStream bool) uint32

//go:linkname sdkOnUpstreamConnectionClose github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnUpstreamConnectionClose
func sdkOnUpstreamConnectionClose(contextID uint32, peerType uint32)

//go:linkname sdkOnRequestHeaders github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnRequestHeaders
func sdkOnRequestHeaders(contextID uint32, numHeaders int, endOfStream bool) uint32

//go:linkname sdkOnRequestBody github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnRequestBody
func sdkOnRequestBody(contextID uint32, bodySize int, endOfStream bool) uint32

//go:linkname sdkOnRequestTrailers github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnRequestTrailers
func sdkOnRequestTrailers(contextID uint32, numTrailers int) uint32

//go:linkname sdkOnResponseHeaders github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnResponseHeaders
func sdkOnResponseHeaders(contextID uint32, numHeaders int, endOfStream bool) uint32

//go:linkname sdkOnResponseBody github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnResponseBody
func sdkOnResponseBody(contextID uint32, bodySize int, endOfStream bool) uint32

//go:linkname sdkOnResponseTrailers github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnResponseTrailers
func sdkOnResponseTrailers(contextID uint32, numTrailers int) uint32

//go:linkname sdkOnHttpCallResponse github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnHttpCallResponse
func sdkOnHttpCallResponse(pluginContextID, calloutID uint32, numHeaders, bodySize, numTrailers int)

//go:linkname sdkOnContextCreate github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnContextCreate
func sdkOnContextCreate(contextID uint32, pluginContextID uint32)

//go:linkname sdkOnLog github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnLog
func sdkOnLog(contextID uint32)

//go:linkname sdkOnDone github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnDone
func sdkOnDone(contextID uint32) bool

//go:linkname sdkOnDelete github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnDelete
func sdkOnDelete(contextID uint32)

//go:linkname sdkOnQueueReady github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnQueueReady
func sdkOnQueueReady(contextID, queueID uint32)

//go:linkname sdkOnTick github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyOnTick
func sdkOnTick(pluginContextID uint32)

//go:linkname sdkABIVersion github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.proxyABIVersion
func sdkABIVersion()

// The exported callbacks. A wasm export cannot take int or uint, so sizes
// arrive as int32; flags travel as uint32 in both directions, so any non-zero
// i32 from the host reads as true.

//go:wasmexport proxy_abi_version_0_2_0
func proxyABIVersion() { sdkABIVersion() }

//go:wasmexport proxy_on_vm_start
func proxyOnVMStart(vmContextID uint32, vmConfigurationSize int32) uint32 {
	return b2u(sdkOnVMStart(vmContextID, int(vmConfigurationSize)))
}

//go:wasmexport proxy_on_configure
func proxyOnConfigure(pluginContextID uint32, pluginConfigurationSize int32) uint32 {
	return b2u(sdkOnConfigure(pluginContextID, int(pluginConfigurationSize)))
}

//go:wasmexport proxy_on_new_connection
func proxyOnNewConnection(contextID uint32) uint32 {
	return sdkOnNewConnection(contextID)
}

//go:wasmexport proxy_on_downstream_data
func proxyOnDownstreamData(contextID uint32, dataSize int32, endOfStream uint32) uint32 {
	return sdkOnDownstreamData(contextID, int(dataSize), endOfStream != 0)
}

//go:wasmexport proxy_on_downstream_connection_close
func proxyOnDownstreamConnectionClose(contextID uint32, peerType uint32) {
	sdkOnDownstreamConnectionClose(contextID, peerType)
}

//go:wasmexport proxy_on_upstream_data
func proxyOnUpstreamData(contextID uint32, dataSize int32, endOfStream uint32) uint32 {
	return sdkOnUpstreamData(contextID, int(dataSize), endOfStream != 0)
}

//go:wasmexport proxy_on_upstream_connection_close
func proxyOnUpstreamConnectionClose(contextID uint32, peerType uint32) {
	sdkOnUpstreamConnectionClose(contextID, peerType)
}

//go:wasmexport proxy_on_request_headers
func proxyOnRequestHeaders(contextID uint32, numHeaders int32, endOfStream uint32) uint32 {
	arenaOn = true
	// One lookup: the handler says whether the stream is its own.
	r, ok := uint32(0), false
	if streams != nil {
		r, ok = streams.RequestHeaders(contextID)
	}
	if !ok {
		r = sdkOnRequestHeaders(contextID, int(numHeaders), endOfStream != 0)
	}
	arenaOn, arenaOff = false, 0
	return r
}

//go:wasmexport proxy_on_request_body
func proxyOnRequestBody(contextID uint32, bodySize int32, endOfStream uint32) uint32 {
	if ours(contextID) {
		return 0 // Continue: the plugin reads no body
	}
	return sdkOnRequestBody(contextID, int(bodySize), endOfStream != 0)
}

//go:wasmexport proxy_on_request_trailers
func proxyOnRequestTrailers(contextID uint32, numTrailers int32) uint32 {
	if ours(contextID) {
		return 0
	}
	return sdkOnRequestTrailers(contextID, int(numTrailers))
}

//go:wasmexport proxy_on_response_headers
func proxyOnResponseHeaders(contextID uint32, numHeaders int32, endOfStream uint32) uint32 {
	arenaOn = true
	// One lookup: the handler says whether the stream is its own.
	r, ok := uint32(0), false
	if streams != nil {
		r, ok = streams.ResponseHeaders(contextID)
	}
	if !ok {
		r = sdkOnResponseHeaders(contextID, int(numHeaders), endOfStream != 0)
	}
	arenaOn, arenaOff = false, 0
	return r
}

//go:wasmexport proxy_on_response_body
func proxyOnResponseBody(contextID uint32, bodySize int32, endOfStream uint32) uint32 {
	if ours(contextID) {
		return 0
	}
	return sdkOnResponseBody(contextID, int(bodySize), endOfStream != 0)
}

//go:wasmexport proxy_on_response_trailers
func proxyOnResponseTrailers(contextID uint32, numTrailers int32) uint32 {
	if ours(contextID) {
		return 0
	}
	return sdkOnResponseTrailers(contextID, int(numTrailers))
}

//go:wasmexport proxy_on_http_call_response
func proxyOnHttpCallResponse(pluginContextID, calloutID uint32, numHeaders, bodySize, numTrailers int32) {
	sdkOnHttpCallResponse(pluginContextID, calloutID, int(numHeaders), int(bodySize), int(numTrailers))
}

//go:wasmexport proxy_on_context_create
func proxyOnContextCreate(contextID uint32, pluginContextID uint32) {
	if pluginContextID != 0 && streams != nil {
		streams.Create(contextID, pluginContextID)
		return
	}
	sdkOnContextCreate(contextID, pluginContextID)
}

//go:wasmexport proxy_on_log
func proxyOnLog(contextID uint32) {
	if !ours(contextID) {
		sdkOnLog(contextID)
	}
}

//go:wasmexport proxy_on_done
func proxyOnDone(contextID uint32) uint32 {
	if ours(contextID) {
		return 1
	}
	return b2u(sdkOnDone(contextID))
}

//go:wasmexport proxy_on_delete
func proxyOnDelete(contextID uint32) {
	if streams != nil && streams.Delete(contextID) {
		return
	}
	sdkOnDelete(contextID)
}

//go:wasmexport proxy_on_queue_ready
func proxyOnQueueReady(contextID, queueID uint32) { sdkOnQueueReady(contextID, queueID) }

//go:wasmexport proxy_on_tick
func proxyOnTick(pluginContextID uint32) { sdkOnTick(pluginContextID) }

// b2u carries a Go bool as the wasm i32 0 or 1.
func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
