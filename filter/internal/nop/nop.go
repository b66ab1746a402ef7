// Package nop holds the SDK contexts of a plugin that does nothing: a VM
// context whose plugin contexts continue every callback. The baseline
// plugins of the benchmarks, filter/noop and filter/floor, register them.
package nop

import "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

// VMContext creates PluginContexts.
type VMContext struct {
	types.DefaultVMContext
}

// NewPluginContext implements types.VMContext.
func (*VMContext) NewPluginContext(uint32) types.PluginContext { return &PluginContext{} }

// PluginContext creates HttpContexts.
type PluginContext struct {
	types.DefaultPluginContext
}

// NewHttpContext implements types.PluginContext.
func (*PluginContext) NewHttpContext(uint32) types.HttpContext { return &HttpContext{} }

// HttpContext continues every callback: the DefaultHttpContext methods do.
type HttpContext struct {
	types.DefaultHttpContext
}
