//go:build wasip1

package abi

// The 29 proxy-wasm ABI 0.2.1 host calls
// (https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1).
// Sizes are i32 on the wire; out-parameters are addresses of 32-bit slots
// (see host_wasip1.go). Every call returns a proxy-wasm status.

//go:wasmimport env proxy_log
func proxyLog(logLevel uint32, messageData *byte, messageSize uint32) uint32

//go:wasmimport env proxy_set_property
func proxySetProperty(pathData *byte, pathSize uint32, valueData *byte, valueSize uint32) uint32

//go:wasmimport env proxy_get_property
func proxyGetProperty(pathData *byte, pathSize uint32, returnValueData *uint32, returnValueSize *uint32) uint32

//go:wasmimport env proxy_send_local_response
func proxySendLocalResponse(statusCode uint32, statusCodeDetailData *byte, statusCodeDetailsSize uint32, bodyData *byte, bodySize uint32, headersData *byte, headersSize uint32, grpcStatus int32) uint32

//go:wasmimport env proxy_get_shared_data
func proxyGetSharedData(keyData *byte, keySize uint32, returnValueData *uint32, returnValueSize *uint32, returnCas *uint32) uint32

//go:wasmimport env proxy_set_shared_data
func proxySetSharedData(keyData *byte, keySize uint32, valueData *byte, valueSize uint32, cas uint32) uint32

//go:wasmimport env proxy_register_shared_queue
func proxyRegisterSharedQueue(nameData *byte, nameSize uint32, returnID *uint32) uint32

//go:wasmimport env proxy_resolve_shared_queue
func proxyResolveSharedQueue(vmIDData *byte, vmIDSize uint32, nameData *byte, nameSize uint32, returnID *uint32) uint32

//go:wasmimport env proxy_dequeue_shared_queue
func proxyDequeueSharedQueue(queueID uint32, returnValueData *uint32, returnValueSize *uint32) uint32

//go:wasmimport env proxy_enqueue_shared_queue
func proxyEnqueueSharedQueue(queueID uint32, valueData *byte, valueSize uint32) uint32

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(mapType uint32, keyData *byte, keySize uint32, returnValueData *uint32, returnValueSize *uint32) uint32

//go:wasmimport env proxy_add_header_map_value
func proxyAddHeaderMapValue(mapType uint32, keyData *byte, keySize uint32, valueData *byte, valueSize uint32) uint32

//go:wasmimport env proxy_replace_header_map_value
func proxyReplaceHeaderMapValue(mapType uint32, keyData *byte, keySize uint32, valueData *byte, valueSize uint32) uint32

//go:wasmimport env proxy_continue_stream
func proxyContinueStream(streamType uint32) uint32

//go:wasmimport env proxy_close_stream
func proxyCloseStream(streamType uint32) uint32

//go:wasmimport env proxy_remove_header_map_value
func proxyRemoveHeaderMapValue(mapType uint32, keyData *byte, keySize uint32) uint32

//go:wasmimport env proxy_get_header_map_pairs
func proxyGetHeaderMapPairs(mapType uint32, returnValueData *uint32, returnValueSize *uint32) uint32

//go:wasmimport env proxy_set_header_map_pairs
func proxySetHeaderMapPairs(mapType uint32, mapData *byte, mapSize uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(bufferType uint32, start uint32, maxSize uint32, returnBufferData *uint32, returnBufferSize *uint32) uint32

//go:wasmimport env proxy_set_buffer_bytes
func proxySetBufferBytes(bufferType uint32, start uint32, maxSize uint32, bufferData *byte, bufferSize uint32) uint32

//go:wasmimport env proxy_http_call
func proxyHttpCall(upstreamData *byte, upstreamSize uint32, headerData *byte, headerSize uint32, bodyData *byte, bodySize uint32, trailersData *byte, trailersSize uint32, timeout uint32, calloutIDPtr *uint32) uint32

//go:wasmimport env proxy_call_foreign_function
func proxyCallForeignFunction(funcNamePtr *byte, funcNameSize uint32, paramPtr *byte, paramSize uint32, returnData *uint32, returnSize *uint32) uint32

//go:wasmimport env proxy_set_tick_period_milliseconds
func proxySetTickPeriodMilliseconds(period uint32) uint32

//go:wasmimport env proxy_set_effective_context
func proxySetEffectiveContext(contextID uint32) uint32

//go:wasmimport env proxy_done
func proxyDone() uint32

//go:wasmimport env proxy_define_metric
func proxyDefineMetric(metricType uint32, metricNameData *byte, metricNameSize uint32, returnMetricIDPtr *uint32) uint32

//go:wasmimport env proxy_increment_metric
func proxyIncrementMetric(metricID uint32, offset int64) uint32

//go:wasmimport env proxy_record_metric
func proxyRecordMetric(metricID uint32, value uint64) uint32

//go:wasmimport env proxy_get_metric
func proxyGetMetric(metricID uint32, returnMetricValue *uint64) uint32
