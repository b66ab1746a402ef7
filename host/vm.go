package host

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// This file holds a VM's lifecycle: instantiate and _initialize, configure
// (the root context), call guest exports, close. A trap kills the VM for
// good, as in Envoy. Streams are in stream.go.

// Violation is a host call the guest made where Envoy forbids it.
type Violation struct {
	Phase    string // "_initialize" or "proxy_on_memory_allocate"
	Function string // qualified import name, e.g. "env.proxy_get_property"
}

// String describes the violation.
func (v Violation) String() string {
	return fmt.Sprintf("restricted callback: %s called during %s (Envoy kills the VM)", v.Function, v.Phase)
}

// ErrConfigRefused is returned (wrapped) by [VM.Configure] when
// proxy_on_configure returns false: Envoy then refuses the configuration.
var ErrConfigRefused = errors.New("host: proxy_on_configure returned false (Envoy refuses the configuration)")

// ErrRestrictedCallback is wrapped by the error of a call during which the
// guest called a host function Envoy forbids at that moment (see
// [VM.Violations]).
var ErrRestrictedCallback = errors.New("restricted callback violation")

// vmKey is the context key under which host functions find their VM.
type vmKey struct{}

// VM is one instance of a [Plugin], like the proxy-wasm VM of one Envoy
// worker. Its methods are safe for concurrent use (each takes the VM's
// lock), but the guest runs one callback at a time, as in Envoy.
type VM struct {
	plugin *Plugin
	owns   bool // Close closes the plugin's runtime too
	ctx    context.Context
	mod    api.Module
	mem    api.Memory

	mu sync.Mutex

	fnMalloc, fnContextCreate, fnVMStart, fnConfigure api.Function
	fnReqHeaders, fnReqBody, fnReqTrailers            api.Function
	fnRespHeaders, fnRespBody, fnRespTrailers         api.Function
	fnDone, fnLog, fnDelete                           api.Function
	fnTick, fnCallResponse                            api.Function
	stack                                             [5]uint64
	allocStack                                        [1]uint64
	root                                              *root   // the root context new streams start under
	roots                                             []*root // every root context created, in order
	nextID                                            uint32
	reconfigs                                         int
	configured, configureCalled                       bool
	initializing                                      bool
	allocDepth                                        int
	inConfigure                                       bool
	pluginConfig                                      []byte
	cur                                               *Stream
	failed                                            error
	logs                                              []LogEntry
	dropped                                           int
	metrics                                           []*metric          // one per name and kind
	metricIDs                                         []*metric          // by metric ID - 1
	metricNames                                       map[string]*metric // by kind and name
	violations                                        []Violation
	pollCalls                                         atomic.Uint64
	tickPeriod                                        uint32
	inRoot                                            *root         // the root context of the running root callback
	callResp                                          *callResponse // the HTTP call answer being delivered
	nextCallout                                       uint32
	callsAnswered, ticks                              int
	scratch                                           []byte
	streams                                           int
}

// New compiles wasm and returns one VM of it, started (_initialize run) but
// not yet configured. Closing the VM closes its private runtime. Use
// [Compile] and [Plugin.NewVM] for a pool of VMs sharing one compilation.
func New(ctx context.Context, wasm []byte, opts ...Option) (*VM, error) {
	p, err := Compile(ctx, wasm, opts...)
	if err != nil {
		return nil, err
	}
	vm, err := p.NewVM(ctx)
	if err != nil {
		p.Close(ctx)
		return nil, err
	}
	vm.owns = true
	return vm, nil
}

// NewVM instantiates the plugin and runs _initialize (then main, if the
// module exports one, as Envoy does) under the restricted-callback rules.
// The returned VM still needs [VM.Configure].
func (p *Plugin) NewVM(ctx context.Context) (*VM, error) {
	vm := &VM{plugin: p, nextID: 1, metricNames: map[string]*metric{}}
	vm.ctx = context.WithValue(ctx, vmKey{}, vm)
	mod, err := p.runtime.InstantiateModule(vm.ctx, p.compiled,
		wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("host: instantiate: %w", err)
	}
	vm.mod, vm.mem = mod, mod.Memory()
	if vm.mem == nil {
		mod.Close(ctx)
		return nil, errors.New("host: module has no exported memory")
	}
	f := mod.ExportedFunction
	vm.fnMalloc, vm.fnContextCreate = f("proxy_on_memory_allocate"), f("proxy_on_context_create")
	vm.fnVMStart, vm.fnConfigure = f("proxy_on_vm_start"), f("proxy_on_configure")
	vm.fnReqHeaders, vm.fnReqBody, vm.fnReqTrailers = f("proxy_on_request_headers"), f("proxy_on_request_body"), f("proxy_on_request_trailers")
	vm.fnRespHeaders, vm.fnRespBody, vm.fnRespTrailers = f("proxy_on_response_headers"), f("proxy_on_response_body"), f("proxy_on_response_trailers")
	vm.fnDone, vm.fnLog, vm.fnDelete = f("proxy_on_done"), f("proxy_on_log"), f("proxy_on_delete")
	vm.fnTick, vm.fnCallResponse = f("proxy_on_tick"), f("proxy_on_http_call_response")

	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.initializing = true
	start := f("_initialize")
	if start == nil {
		start = f("_start") // a WASI command: proc_exit at its end is restricted there, as in Envoy
	}
	err = vm.callLocked(start)
	if err == nil {
		if m := f("main"); m != nil && sigOf(m.Definition()) == "ii>i" {
			err = vm.callLocked(m, 0, 0)
		}
	}
	vm.initializing = false
	if err != nil {
		mod.Close(ctx)
		return nil, fmt.Errorf("host: start VM: %w", err)
	}
	p.mu.Lock()
	p.vms = append(p.vms, vm)
	p.mu.Unlock()
	return vm, nil
}

// Close releases the VM (and its runtime, when created by [New]).
func (vm *VM) Close(ctx context.Context) error {
	p := vm.plugin
	p.mu.Lock()
	p.vms = slices.DeleteFunc(p.vms, func(v *VM) bool { return v == vm })
	p.pending = slices.DeleteFunc(p.pending, func(c *pendingCall) bool { return c.vm == vm })
	p.mu.Unlock()
	if vm.owns {
		return vm.plugin.Close(ctx)
	}
	return vm.mod.Close(ctx)
}

// callLocked calls a guest export with the VM locked. A guest trap (a
// restricted-callback violation, a Go fatal error) kills the VM: every
// later call fails with the same error, as the VM is gone in Envoy too.
func (vm *VM) callLocked(fn api.Function, args ...uint64) error {
	_, err := vm.call1(fn, args...)
	return err
}

func (vm *VM) call1(fn api.Function, args ...uint64) (uint64, error) {
	if vm.failed != nil {
		return 0, vm.failed
	}
	if fn == nil {
		return 0, nil
	}
	if trace := vm.plugin.opts.trace; trace != nil {
		var id uint32
		if len(args) > 0 {
			id = uint32(args[0])
		}
		trace(vm, exportName(fn), id)
	}
	st := vm.stack[:]
	copy(st, args)
	before, logsBefore := len(vm.violations), len(vm.logs)
	if err := fn.CallWithStack(vm.ctx, st); err != nil {
		name := exportName(fn)
		// What the guest wrote to stderr while dying (a Go "fatal error").
		var stderr strings.Builder
		for _, e := range vm.logs[min(logsBefore, len(vm.logs)):] {
			if e.Level == LogError {
				stderr.WriteString(e.Message)
				stderr.WriteByte('\n')
			}
		}
		if msg := strings.Join(strings.Fields(stderr.String()), " "); msg != "" {
			if len(msg) > 400 {
				msg = msg[:400] + "..."
			}
			err = fmt.Errorf("%w; guest stderr: %s", err, msg)
		}
		if n := len(vm.violations); n > before {
			vm.failed = fmt.Errorf("host: %s: %w: %s (the VM is dead): %v", name, ErrRestrictedCallback, vm.violations[n-1], err)
		} else {
			vm.failed = fmt.Errorf("host: %s: %w (the VM is dead)", name, err)
		}
		return 0, vm.failed
	}
	return st[0], nil
}

// exportName returns the name under which fn is exported.
func exportName(fn api.Function) string {
	if names := fn.Definition().ExportNames(); len(names) > 0 {
		return names[0]
	}
	return fn.Definition().Name()
}

// Configure creates the VM's first root context and configures it:
// proxy_on_context_create(root, 0), proxy_on_vm_start and proxy_on_configure
// with config as the plugin configuration (buffer type 7). A false result
// is returned as an error wrapping [ErrConfigRefused]; the plugin's reasons
// are in its logs (usually [LogCritical]). Configure may be called once; a
// later configuration goes through [VM.Reconfigure].
func (vm *VM) Configure(config []byte) error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if vm.configureCalled {
		return errors.New("host: Configure called twice; use Reconfigure, or create a new VM")
	}
	vm.configureCalled = true
	r, err := vm.startRoot(config)
	if err != nil {
		return err
	}
	vm.root, vm.configured = r, true
	return nil
}

// startRoot creates a root context under the next context ID and
// configures it, as proxy-wasm-cpp-host's WasmBase::start and configure do
// for every plugin configuration: proxy_on_context_create(id, 0),
// proxy_on_vm_start (again for every root: ContextBase::onStart calls it),
// proxy_on_configure.
func (vm *VM) startRoot(config []byte) (*root, error) {
	r := &root{id: vm.nextID}
	vm.nextID++
	vm.roots = append(vm.roots, r)
	vm.inRoot = r
	defer func() { vm.inRoot = nil }()
	if err := vm.callLocked(vm.fnContextCreate, uint64(r.id), 0); err != nil {
		return nil, err
	}
	ok, err := vm.call1(vm.fnVMStart, uint64(r.id), uint64(len(vm.plugin.opts.vmConfig)))
	if err != nil {
		return nil, err
	}
	if vm.fnVMStart != nil && uint32(ok) == 0 {
		return nil, errors.New("host: proxy_on_vm_start returned false (Envoy fails the VM)")
	}
	vm.inConfigure, vm.pluginConfig = true, config
	ok, err = vm.call1(vm.fnConfigure, uint64(r.id), uint64(len(config)))
	vm.inConfigure, vm.pluginConfig = false, nil
	if err != nil {
		return nil, err
	}
	if vm.fnConfigure != nil && uint32(ok) == 0 {
		return nil, ErrConfigRefused
	}
	return r, nil
}
