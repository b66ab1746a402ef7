//go:build wasip1

package abi

import _ "unsafe" // for go:linkname

// proxyWasmHost mirrors the SDK's internal.ProxyWasmHost method for method,
// with uint32 in place of the SDK's named uint32 types (Status, LogLevel,
// MapType, StreamType, BufferType, MetricType). Both interfaces therefore
// have the same method names in the same order and the same memory layout,
// so a proxyWasmHost can be registered where the SDK expects its own
// interface. drift_test.go checks that the two method sets stay identical.
type proxyWasmHost interface {
	ProxyLog(logLevel uint32, messageData *byte, messageSize int) uint32
	ProxySetProperty(pathData *byte, pathSize int, valueData *byte, valueSize int) uint32
	ProxyGetProperty(pathData *byte, pathSize int, returnValueData **byte, returnValueSize *int) uint32
	ProxySendLocalResponse(statusCode uint32, statusCodeDetailData *byte, statusCodeDetailsSize int, bodyData *byte, bodySize int, headersData *byte, headersSize int, grpcStatus int32) uint32
	ProxyGetSharedData(keyData *byte, keySize int, returnValueData **byte, returnValueSize *int, returnCas *uint32) uint32
	ProxySetSharedData(keyData *byte, keySize int, valueData *byte, valueSize int, cas uint32) uint32
	ProxyRegisterSharedQueue(nameData *byte, nameSize int, returnID *uint32) uint32
	ProxyResolveSharedQueue(vmIDData *byte, vmIDSize int, nameData *byte, nameSize int, returnID *uint32) uint32
	ProxyDequeueSharedQueue(queueID uint32, returnValueData **byte, returnValueSize *int) uint32
	ProxyEnqueueSharedQueue(queueID uint32, valueData *byte, valueSize int) uint32
	ProxyGetHeaderMapValue(mapType uint32, keyData *byte, keySize int, returnValueData **byte, returnValueSize *int) uint32
	ProxyAddHeaderMapValue(mapType uint32, keyData *byte, keySize int, valueData *byte, valueSize int) uint32
	ProxyReplaceHeaderMapValue(mapType uint32, keyData *byte, keySize int, valueData *byte, valueSize int) uint32
	ProxyContinueStream(streamType uint32) uint32
	ProxyCloseStream(streamType uint32) uint32
	ProxyRemoveHeaderMapValue(mapType uint32, keyData *byte, keySize int) uint32
	ProxyGetHeaderMapPairs(mapType uint32, returnValueData **byte, returnValueSize *int) uint32
	ProxySetHeaderMapPairs(mapType uint32, mapData *byte, mapSize int) uint32
	ProxyGetBufferBytes(bufferType uint32, start int, maxSize int, returnBufferData **byte, returnBufferSize *int) uint32
	ProxySetBufferBytes(bufferType uint32, start int, maxSize int, bufferData *byte, bufferSize int) uint32
	ProxyHttpCall(upstreamData *byte, upstreamSize int, headerData *byte, headerSize int, bodyData *byte, bodySize int, trailersData *byte, trailersSize int, timeout uint32, calloutIDPtr *uint32) uint32
	ProxyCallForeignFunction(funcNamePtr *byte, funcNameSize int, paramPtr *byte, paramSize int, returnData **byte, returnSize *int) uint32
	ProxySetTickPeriodMilliseconds(period uint32) uint32
	ProxySetEffectiveContext(contextID uint32) uint32
	ProxyDone() uint32
	ProxyDefineMetric(metricType uint32, metricNameData *byte, metricNameSize int, returnMetricIDPtr *uint32) uint32
	ProxyIncrementMetric(metricID uint32, offset int64) uint32
	ProxyRecordMetric(metricID uint32, value uint64) uint32
	ProxyGetMetric(metricID uint32, returnMetricValue *uint64) uint32
}

//go:linkname registerMockWasmHost github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/internal.RegisterMockWasmHost
func registerMockWasmHost(h proxyWasmHost) (release func())

func init() {
	keepMethods()
	// The SDK's lock is taken for good: this host is the only one.
	registerMockWasmHost(&host{})
}

// keepMethods references every host method. The linker keeps a method only
// when some interface call matches it by name and type, and the SDK calls
// them with its own named types, so without this the methods are dropped:
// the build then imports no env.proxy_* function and dies with "unreachable
// method called. linker bug?" on the first host call. The methods have
// pointer receivers and the expressions name (*host).M: the interface's
// method table points at exactly these functions. (With value receivers it
// would point at the compiler's (*host).M wrappers, which a reference to
// host.M does not keep.)
func keepMethods() {
	keep((*host).ProxyLog, (*host).ProxySetProperty, (*host).ProxyGetProperty,
		(*host).ProxySendLocalResponse, (*host).ProxyGetSharedData, (*host).ProxySetSharedData,
		(*host).ProxyRegisterSharedQueue, (*host).ProxyResolveSharedQueue,
		(*host).ProxyDequeueSharedQueue, (*host).ProxyEnqueueSharedQueue,
		(*host).ProxyGetHeaderMapValue, (*host).ProxyAddHeaderMapValue,
		(*host).ProxyReplaceHeaderMapValue, (*host).ProxyContinueStream, (*host).ProxyCloseStream,
		(*host).ProxyRemoveHeaderMapValue, (*host).ProxyGetHeaderMapPairs,
		(*host).ProxySetHeaderMapPairs, (*host).ProxyGetBufferBytes, (*host).ProxySetBufferBytes,
		(*host).ProxyHttpCall, (*host).ProxyCallForeignFunction,
		(*host).ProxySetTickPeriodMilliseconds, (*host).ProxySetEffectiveContext, (*host).ProxyDone,
		(*host).ProxyDefineMetric, (*host).ProxyIncrementMetric, (*host).ProxyRecordMetric,
		(*host).ProxyGetMetric)
}

// kept holds the method expressions, so no optimisation can discard them.
var kept []any

//go:noinline
func keep(methods ...any) { kept = methods }

const (
	statusOK              = 0
	statusInternalFailure = 10
)

// out holds the 32-bit out-parameters of one host call. The host writes
// 32-bit addresses and sizes, while Go's *byte and int are 64-bit, so the
// host writes here and the result is converted afterwards. Slots live on the
// heap and are reused: a goroutine stack may be moved while the host calls
// back into proxy_on_memory_allocate, a heap object never is.
type out struct {
	data, size, id uint32
	u64            uint64
}

var (
	slots []*out // one per nesting level of host calls
	depth int    // host calls in flight
)

// enter returns the out-parameter slots for a host call; leave must follow.
func enter() *out {
	if depth == len(slots) {
		slots = append(slots, new(out))
	}
	o := slots[depth]
	depth++
	*o = out{}
	return o
}

// leave ends a host call, releasing the allocations made for it once no
// host call is in flight.
func leave() {
	depth--
	if depth == 0 {
		releasePending()
	}
}

// bytes hands the buffer the host returned to the SDK's out-parameters. A
// host answer that does not name a buffer we allocated becomes
// InternalFailure rather than a wild pointer.
func (o *out) bytes(status uint32, data **byte, size *int) uint32 {
	if status != statusOK {
		return status
	}
	p, n, ok := claim(o.data, o.size)
	if !ok {
		return statusInternalFailure
	}
	*data, *size = p, n
	return status
}

// host implements proxyWasmHost on the env.proxy_* imports.
type host struct{}

func (*host) ProxyLog(logLevel uint32, messageData *byte, messageSize int) uint32 {
	return proxyLog(logLevel, messageData, uint32(messageSize))
}

func (*host) ProxySetProperty(pathData *byte, pathSize int, valueData *byte, valueSize int) uint32 {
	return proxySetProperty(pathData, uint32(pathSize), valueData, uint32(valueSize))
}

func (*host) ProxyGetProperty(pathData *byte, pathSize int, returnValueData **byte, returnValueSize *int) uint32 {
	o := enter()
	defer leave()
	return o.bytes(proxyGetProperty(pathData, uint32(pathSize), &o.data, &o.size), returnValueData, returnValueSize)
}

func (*host) ProxySendLocalResponse(statusCode uint32, statusCodeDetailData *byte, statusCodeDetailsSize int, bodyData *byte, bodySize int, headersData *byte, headersSize int, grpcStatus int32) uint32 {
	return proxySendLocalResponse(statusCode, statusCodeDetailData, uint32(statusCodeDetailsSize), bodyData, uint32(bodySize), headersData, uint32(headersSize), grpcStatus)
}

func (*host) ProxyGetSharedData(keyData *byte, keySize int, returnValueData **byte, returnValueSize *int, returnCas *uint32) uint32 {
	o := enter()
	defer leave()
	st := o.bytes(proxyGetSharedData(keyData, uint32(keySize), &o.data, &o.size, &o.id), returnValueData, returnValueSize)
	if st == statusOK {
		*returnCas = o.id
	}
	return st
}

func (*host) ProxySetSharedData(keyData *byte, keySize int, valueData *byte, valueSize int, cas uint32) uint32 {
	return proxySetSharedData(keyData, uint32(keySize), valueData, uint32(valueSize), cas)
}

func (*host) ProxyRegisterSharedQueue(nameData *byte, nameSize int, returnID *uint32) uint32 {
	o := enter()
	defer leave()
	st := proxyRegisterSharedQueue(nameData, uint32(nameSize), &o.id)
	*returnID = o.id
	return st
}

func (*host) ProxyResolveSharedQueue(vmIDData *byte, vmIDSize int, nameData *byte, nameSize int, returnID *uint32) uint32 {
	o := enter()
	defer leave()
	st := proxyResolveSharedQueue(vmIDData, uint32(vmIDSize), nameData, uint32(nameSize), &o.id)
	*returnID = o.id
	return st
}

func (*host) ProxyDequeueSharedQueue(queueID uint32, returnValueData **byte, returnValueSize *int) uint32 {
	o := enter()
	defer leave()
	return o.bytes(proxyDequeueSharedQueue(queueID, &o.data, &o.size), returnValueData, returnValueSize)
}

func (*host) ProxyEnqueueSharedQueue(queueID uint32, valueData *byte, valueSize int) uint32 {
	return proxyEnqueueSharedQueue(queueID, valueData, uint32(valueSize))
}

func (*host) ProxyGetHeaderMapValue(mapType uint32, keyData *byte, keySize int, returnValueData **byte, returnValueSize *int) uint32 {
	o := enter()
	defer leave()
	return o.bytes(proxyGetHeaderMapValue(mapType, keyData, uint32(keySize), &o.data, &o.size), returnValueData, returnValueSize)
}

func (*host) ProxyAddHeaderMapValue(mapType uint32, keyData *byte, keySize int, valueData *byte, valueSize int) uint32 {
	return proxyAddHeaderMapValue(mapType, keyData, uint32(keySize), valueData, uint32(valueSize))
}

func (*host) ProxyReplaceHeaderMapValue(mapType uint32, keyData *byte, keySize int, valueData *byte, valueSize int) uint32 {
	return proxyReplaceHeaderMapValue(mapType, keyData, uint32(keySize), valueData, uint32(valueSize))
}

func (*host) ProxyContinueStream(streamType uint32) uint32 { return proxyContinueStream(streamType) }

func (*host) ProxyCloseStream(streamType uint32) uint32 { return proxyCloseStream(streamType) }

func (*host) ProxyRemoveHeaderMapValue(mapType uint32, keyData *byte, keySize int) uint32 {
	return proxyRemoveHeaderMapValue(mapType, keyData, uint32(keySize))
}

func (*host) ProxyGetHeaderMapPairs(mapType uint32, returnValueData **byte, returnValueSize *int) uint32 {
	o := enter()
	defer leave()
	return o.bytes(proxyGetHeaderMapPairs(mapType, &o.data, &o.size), returnValueData, returnValueSize)
}

func (*host) ProxySetHeaderMapPairs(mapType uint32, mapData *byte, mapSize int) uint32 {
	return proxySetHeaderMapPairs(mapType, mapData, uint32(mapSize))
}

func (*host) ProxyGetBufferBytes(bufferType uint32, start int, maxSize int, returnBufferData **byte, returnBufferSize *int) uint32 {
	o := enter()
	defer leave()
	return o.bytes(proxyGetBufferBytes(bufferType, uint32(start), uint32(maxSize), &o.data, &o.size), returnBufferData, returnBufferSize)
}

func (*host) ProxySetBufferBytes(bufferType uint32, start int, maxSize int, bufferData *byte, bufferSize int) uint32 {
	return proxySetBufferBytes(bufferType, uint32(start), uint32(maxSize), bufferData, uint32(bufferSize))
}

func (*host) ProxyHttpCall(upstreamData *byte, upstreamSize int, headerData *byte, headerSize int, bodyData *byte, bodySize int, trailersData *byte, trailersSize int, timeout uint32, calloutIDPtr *uint32) uint32 {
	o := enter()
	defer leave()
	st := proxyHttpCall(upstreamData, uint32(upstreamSize), headerData, uint32(headerSize), bodyData, uint32(bodySize), trailersData, uint32(trailersSize), timeout, &o.id)
	*calloutIDPtr = o.id
	return st
}

func (*host) ProxyCallForeignFunction(funcNamePtr *byte, funcNameSize int, paramPtr *byte, paramSize int, returnData **byte, returnSize *int) uint32 {
	o := enter()
	defer leave()
	return o.bytes(proxyCallForeignFunction(funcNamePtr, uint32(funcNameSize), paramPtr, uint32(paramSize), &o.data, &o.size), returnData, returnSize)
}

func (*host) ProxySetTickPeriodMilliseconds(period uint32) uint32 {
	return proxySetTickPeriodMilliseconds(period)
}

func (*host) ProxySetEffectiveContext(contextID uint32) uint32 {
	return proxySetEffectiveContext(contextID)
}

func (*host) ProxyDone() uint32 { return proxyDone() }

func (*host) ProxyDefineMetric(metricType uint32, metricNameData *byte, metricNameSize int, returnMetricIDPtr *uint32) uint32 {
	o := enter()
	defer leave()
	st := proxyDefineMetric(metricType, metricNameData, uint32(metricNameSize), &o.id)
	*returnMetricIDPtr = o.id
	return st
}

func (*host) ProxyIncrementMetric(metricID uint32, offset int64) uint32 {
	return proxyIncrementMetric(metricID, offset)
}

func (*host) ProxyRecordMetric(metricID uint32, value uint64) uint32 {
	return proxyRecordMetric(metricID, value)
}

func (*host) ProxyGetMetric(metricID uint32, returnMetricValue *uint64) uint32 {
	o := enter()
	defer leave()
	st := proxyGetMetric(metricID, &o.u64)
	*returnMetricValue = o.u64
	return st
}
