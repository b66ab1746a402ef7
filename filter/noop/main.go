// Command noop is a proxy-wasm plugin that does nothing: a root context and
// an HTTP context that continue every callback. It is built with the same
// toolchain and ABI layer as the CORS filter, so benchmarks can subtract the
// cost of the VM, the SDK and the host calls from the filter's own cost.
package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	_ "github.com/corsfilter/corsfilter/filter/internal/abi"
)

func main() {}

func init() { proxywasm.SetVMContext(&vmContext{}) }

type vmContext struct {
	types.DefaultVMContext
}

// NewPluginContext implements types.VMContext.
func (*vmContext) NewPluginContext(uint32) types.PluginContext { return &pluginContext{} }

type pluginContext struct {
	types.DefaultPluginContext
}

// NewHttpContext implements types.PluginContext.
func (*pluginContext) NewHttpContext(uint32) types.HttpContext { return &httpContext{} }

// httpContext continues every callback: the DefaultHttpContext methods do.
type httpContext struct {
	types.DefaultHttpContext
}
