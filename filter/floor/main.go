// Command floor is a proxy-wasm plugin that makes the host calls of the
// CORS filter's two common answers, with as little Go work as it can: an
// allowed preflight (read the request's headers, answer with a fixed local
// reply of six CORS headers, read that reply back when Envoy hands it to the
// response callback) and an allowed actual request (read the request's and
// the response's headers, write four headers). It decides nothing. Built
// with the same toolchain and ABI layer as the filter and noop, it measures
// what the host calls alone cost above the no-op plugin: the floor under
// any filter that answers the same way (make build/floor-bench.wasm;
// BenchmarkFloor in e2e).
package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

	"github.com/corsfilter/corsfilter/filter/internal/nop"
)

func main() {}

// The SDK keeps the VM and plugin contexts, which do nothing; the streams
// are the ABI layer's (streams_wasip1.go).
func init() { proxywasm.SetVMContext(&nop.VMContext{}) }
