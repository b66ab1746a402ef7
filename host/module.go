package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// This file compiles a proxy-wasm module and checks it as Envoy does at
// load: the imports it needs must be offered by the host modules (env.go,
// wasi.go), and the exports Envoy calls must exist with Envoy's signatures.

// Plugin is a compiled proxy-wasm module in its own wazero runtime, with the
// host modules instantiated. It is safe for concurrent use; each [VM] it
// creates is not.
type Plugin struct {
	opts     options
	runtime  wazero.Runtime
	compiled wazero.CompiledModule
	clock    clock
	shared   sharedData // proxy_get_shared_data and proxy_set_shared_data

	mu      sync.Mutex
	vms     []*VM          // the VMs not closed, which Advance ticks
	calls   []HTTPCall     // every proxy_http_call sent
	pending []*pendingCall // calls awaiting their answer
}

// Compile checks and compiles a proxy-wasm module. It fails, as Envoy does,
// when the module imports anything this host does not offer (see env.go and
// wasi.go), or lacks the exports Envoy requires.
func Compile(ctx context.Context, wasm []byte, opts ...Option) (*Plugin, error) {
	o := options{maxLogs: 100_000}
	for _, opt := range opts {
		opt(&o)
	}
	if o.cache == nil {
		o.cache = defaultCache()
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(o.cache))
	p := &Plugin{opts: o, runtime: rt}
	if !o.fakeStart.IsZero() {
		p.clock = clock{fake: true, start: o.fakeStart, now: o.fakeStart}
	}
	if err := instantiateWASI(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	if err := instantiateEnv(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("host: compile: %w", err)
	}
	if err := checkModule(compiled); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	p.compiled = compiled
	return p, nil
}

// Close releases the runtime and every VM of the plugin.
func (p *Plugin) Close(ctx context.Context) error { return p.runtime.Close(ctx) }

// signature is a wasm function type, written as "ii>i" (params > results).
type signature string

// guestExports are the exports the host calls, with Envoy's signatures.
// Envoy refuses a module whose export has another signature.
var guestExports = map[string]signature{
	"proxy_on_memory_allocate":    "i>i",
	"proxy_on_context_create":     "ii>",
	"proxy_on_vm_start":           "ii>i",
	"proxy_on_configure":          "ii>i",
	"proxy_on_request_headers":    "iii>i",
	"proxy_on_request_body":       "iii>i",
	"proxy_on_request_trailers":   "ii>i",
	"proxy_on_response_headers":   "iii>i",
	"proxy_on_response_body":      "iii>i",
	"proxy_on_response_trailers":  "ii>i",
	"proxy_on_done":               "i>i",
	"proxy_on_log":                "i>",
	"proxy_on_delete":             "i>",
	"proxy_on_tick":               "i>",
	"proxy_on_http_call_response": "iiiii>",
}

// abiVersions are the ABI version exports Envoy accepts.
var abiVersions = []string{"proxy_abi_version_0_2_1", "proxy_abi_version_0_2_0", "proxy_abi_version_0_1_0"}

func sigOf(d api.FunctionDefinition) signature {
	var b strings.Builder
	for _, t := range d.ParamTypes() {
		b.WriteString(valueTypeLetter(t))
	}
	b.WriteByte('>')
	for _, t := range d.ResultTypes() {
		b.WriteString(valueTypeLetter(t))
	}
	return signature(b.String())
}

func valueTypeLetter(t api.ValueType) string {
	switch t {
	case api.ValueTypeI32:
		return "i"
	case api.ValueTypeI64:
		return "I"
	case api.ValueTypeF32:
		return "f"
	case api.ValueTypeF64:
		return "F"
	}
	return "?"
}

func checkModule(m wazero.CompiledModule) error {
	exports := m.ExportedFunctions()
	var errs []error
	if _, ok := exports["_initialize"]; !ok {
		if _, ok := exports["_start"]; !ok {
			errs = append(errs, errors.New("host: module exports neither _initialize nor _start"))
		}
	}
	hasABI := false
	for _, v := range abiVersions {
		if _, ok := exports[v]; ok {
			hasABI = true
		}
	}
	if !hasABI {
		errs = append(errs, errors.New("host: module exports no proxy_abi_version_* function (Envoy refuses it)"))
	}
	for name, want := range guestExports {
		d, ok := exports[name]
		if !ok {
			if name == "proxy_on_memory_allocate" {
				errs = append(errs, errors.New("host: module does not export proxy_on_memory_allocate"))
			}
			continue
		}
		if got := sigOf(d); got != want {
			errs = append(errs, fmt.Errorf("host: export %s has signature %s, Envoy expects %s", name, got, want))
		}
	}
	return errors.Join(errs...)
}
