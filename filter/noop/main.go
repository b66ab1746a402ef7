// Command noop is a proxy-wasm plugin that does nothing: a root context and
// an HTTP context that continue every callback. It is built with the same
// toolchain and ABI layer as the CORS filter, so benchmarks can subtract the
// cost of the VM, the SDK and the host calls from the filter's own cost.
package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

	_ "github.com/corsfilter/corsfilter/filter/internal/abi"
	"github.com/corsfilter/corsfilter/filter/internal/nop"
)

func main() {}

func init() { proxywasm.SetVMContext(&nop.VMContext{}) }
