package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// PollOneoff selects how wasi_snapshot_preview1.poll_oneoff answers.
type PollOneoff uint8

const (
	// PollOneoffENOSYS answers ENOSYS (52), as Envoy builds whose
	// proxy-wasm host predates proxy-wasm-cpp-host PR #533 do. A Go guest
	// then dies with "fatal error: poll_oneoff failed". The default.
	PollOneoffENOSYS PollOneoff = iota
	// PollOneoffNoEvents succeeds with 0 events, as newer hosts do.
	PollOneoffNoEvents
)

// LogLevel is a proxy-wasm log level.
type LogLevel uint32

// The proxy-wasm log levels.
const (
	LogTrace LogLevel = iota
	LogDebug
	LogInfo
	LogWarn
	LogError
	LogCritical
)

// String returns the level in lower case.
func (l LogLevel) String() string {
	switch l {
	case LogTrace:
		return "trace"
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warn"
	case LogError:
		return "error"
	case LogCritical:
		return "critical"
	}
	return fmt.Sprintf("level(%d)", uint32(l))
}

// LogEntry is one message the guest logged, through proxy_log or by writing
// to stdout (info) or stderr (error).
type LogEntry struct {
	Level   LogLevel
	Message string
}

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

// Option configures a [Plugin].
type Option func(*options)

type options struct {
	poll       PollOneoff
	vmConfig   []byte
	properties map[string]string
	sink       func(LogLevel, string)
	maxLogs    int
	cache      wazero.CompilationCache
}

// WithPollOneoff selects the poll_oneoff behaviour (default
// [PollOneoffENOSYS], the older Envoy).
func WithPollOneoff(p PollOneoff) Option { return func(o *options) { o.poll = p } }

// WithVMConfiguration sets the VM configuration (buffer type 6), readable
// during proxy_on_vm_start. Default: empty.
func WithVMConfiguration(b []byte) Option {
	return func(o *options) { o.vmConfig = append([]byte(nil), b...) }
}

// WithProperty sets a VM-wide property (e.g. "plugin_name"), visible to
// every context. path is the property path with segments joined by ".",
// e.g. "xds.cluster_name". Per-stream properties ([Request.Properties])
// take precedence.
func WithProperty(path, value string) Option {
	return func(o *options) {
		if o.properties == nil {
			o.properties = map[string]string{}
		}
		o.properties[path] = value
	}
}

// WithLogSink calls fn for every guest log message as it is logged, in
// addition to retaining it. fn runs while the VM is locked: it must not call
// back into the VM.
func WithLogSink(fn func(LogLevel, string)) Option { return func(o *options) { o.sink = fn } }

// WithMaxLogs bounds the log entries each VM retains (default 100,000);
// later entries are only passed to the sink and counted by
// [VM.DroppedLogs]. 0 retains none.
func WithMaxLogs(n int) Option { return func(o *options) { o.maxLogs = n } }

// WithCompilationCache sets the wazero compilation cache. Default: one
// in-memory cache shared by every Plugin of the process, so compiling the
// same .wasm again (for a fresh runtime per test) is cheap.
func WithCompilationCache(c wazero.CompilationCache) Option {
	return func(o *options) { o.cache = c }
}

var defaultCache = sync.OnceValue(wazero.NewCompilationCache)

// Plugin is a compiled proxy-wasm module in its own wazero runtime, with the
// host modules instantiated. It is safe for concurrent use; each [VM] it
// creates is not.
type Plugin struct {
	opts     options
	runtime  wazero.Runtime
	compiled wazero.CompiledModule
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
	"proxy_on_memory_allocate":   "i>i",
	"proxy_on_context_create":    "ii>",
	"proxy_on_vm_start":          "ii>i",
	"proxy_on_configure":         "ii>i",
	"proxy_on_request_headers":   "iii>i",
	"proxy_on_request_body":      "iii>i",
	"proxy_on_request_trailers":  "ii>i",
	"proxy_on_response_headers":  "iii>i",
	"proxy_on_response_body":     "iii>i",
	"proxy_on_response_trailers": "ii>i",
	"proxy_on_done":              "i>i",
	"proxy_on_log":               "i>",
	"proxy_on_delete":            "i>",
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

// vmKey is the context key under which host functions find their VM.
type vmKey struct{}

// metric is one proxy_define_metric metric.
type metric struct {
	name  string
	kind  uint32 // 0 counter, 1 gauge, 2 histogram
	value uint64 // counter or gauge value; histogram: number of records
	sum   uint64 // histogram: sum of recorded values
}

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
	stack                                             [3]uint64
	allocStack                                        [1]uint64
	rootID, nextID                                    uint32
	configured, configureCalled                       bool
	initializing                                      bool
	allocDepth                                        int
	inConfigure, inVMStart                            bool
	pluginConfig                                      []byte
	cur                                               *Stream
	failed                                            error
	logs                                              []LogEntry
	dropped                                           int
	metrics                                           []*metric
	metricIDs                                         map[string]uint32
	violations                                        []Violation
	pollCalls                                         atomic.Uint64
	tickPeriod                                        uint32
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
	vm := &VM{plugin: p, rootID: 1, nextID: 2, metricIDs: map[string]uint32{}}
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

	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.initializing = true
	start := f("_initialize")
	if start == nil {
		start = f("_start") // a WASI command: proc_exit at its end fails, as in Envoy
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
	return vm, nil
}

// Close releases the VM (and its runtime, when created by [New]).
func (vm *VM) Close(ctx context.Context) error {
	if vm.owns {
		return vm.plugin.Close(ctx)
	}
	return vm.mod.Close(ctx)
}

// callLocked calls a guest export with the VM locked. A guest trap (a
// restricted-callback violation, a panic, proc_exit) kills the VM: every
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
	st := vm.stack[:]
	copy(st, args)
	before, logsBefore := len(vm.violations), len(vm.logs)
	if err := fn.CallWithStack(vm.ctx, st); err != nil {
		name := fn.Definition().Name()
		if names := fn.Definition().ExportNames(); len(names) > 0 {
			name = names[0]
		}
		// What the guest wrote to stderr while dying (a Go "fatal error").
		var stderr strings.Builder
		for _, e := range vm.logs[min(logsBefore, len(vm.logs)):] {
			if e.Level == LogError {
				stderr.WriteString(e.Message)
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

// Configure creates the root context (proxy_on_context_create(root, 0) and
// proxy_on_vm_start, the first time) and calls proxy_on_configure with
// config as the plugin configuration (buffer type 7). A false result is
// returned as an error wrapping [ErrConfigRefused]; the plugin's reasons are
// in its logs (usually [LogCritical]). Configure may be called once.
func (vm *VM) Configure(config []byte) error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if vm.configureCalled {
		return errors.New("host: Configure called twice; create a new VM")
	}
	vm.configureCalled = true
	if err := vm.callLocked(vm.fnContextCreate, uint64(vm.rootID), 0); err != nil {
		return err
	}
	vm.inVMStart = true
	ok, err := vm.call1(vm.fnVMStart, uint64(vm.rootID), uint64(len(vm.plugin.opts.vmConfig)))
	vm.inVMStart = false
	if err != nil {
		return err
	}
	if vm.fnVMStart != nil && uint32(ok) == 0 {
		return errors.New("host: proxy_on_vm_start returned false (Envoy fails the VM)")
	}
	vm.inConfigure, vm.pluginConfig = true, config
	ok, err = vm.call1(vm.fnConfigure, uint64(vm.rootID), uint64(len(config)))
	vm.inConfigure, vm.pluginConfig = false, nil
	if err != nil {
		return err
	}
	if vm.fnConfigure != nil && uint32(ok) == 0 {
		return ErrConfigRefused
	}
	vm.configured = true
	return nil
}

// log records one guest log message.
func (vm *VM) log(level LogLevel, msg string) {
	if s := vm.plugin.opts.sink; s != nil {
		s(level, msg)
	}
	if len(vm.logs) < vm.plugin.opts.maxLogs {
		vm.logs = append(vm.logs, LogEntry{Level: level, Message: msg})
	} else {
		vm.dropped++
	}
}

// Logs returns the retained messages logged at exactly level, oldest first.
func (vm *VM) Logs(level LogLevel) []string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	var out []string
	for _, e := range vm.logs {
		if e.Level == level {
			out = append(out, e.Message)
		}
	}
	return out
}

// AllLogs returns every retained log entry, oldest first.
func (vm *VM) AllLogs() []LogEntry {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return append([]LogEntry(nil), vm.logs...)
}

// ResetLogs forgets the retained log entries.
func (vm *VM) ResetLogs() {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.logs, vm.dropped = vm.logs[:0], 0
}

// DroppedLogs returns how many entries were not retained (see
// [WithMaxLogs]).
func (vm *VM) DroppedLogs() int {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.dropped
}

// Metric returns the value of the metric the guest defined under name:
// a counter's or gauge's value, or a histogram's number of records. ok is
// false when no such metric was defined.
func (vm *VM) Metric(name string) (value uint64, ok bool) {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	for _, m := range vm.metrics {
		if m.name == name {
			return m.value, true
		}
	}
	return 0, false
}

// Metrics returns every defined metric's value (as [VM.Metric]) by name.
func (vm *VM) Metrics() map[string]uint64 {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	out := make(map[string]uint64, len(vm.metrics))
	for _, m := range vm.metrics {
		out[m.name] = m.value
	}
	return out
}

// Violations returns the restricted-callback violations so far.
func (vm *VM) Violations() []Violation {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return append([]Violation(nil), vm.violations...)
}

// PollOneoffCalls returns how many times the guest called poll_oneoff.
func (vm *VM) PollOneoffCalls() uint64 { return vm.pollCalls.Load() }

// MemorySize returns the size of the guest's linear memory in bytes. It
// never shrinks.
func (vm *VM) MemorySize() uint32 {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.mem.Size()
}

// Err returns the error that killed the VM, or nil while it is alive.
func (vm *VM) Err() error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.failed
}

// TickPeriod returns the tick period the guest set with
// proxy_set_tick_period_milliseconds (0: none). This host never calls
// proxy_on_tick.
func (vm *VM) TickPeriod() uint32 {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.tickPeriod
}

// Streams returns how many streams the VM has started.
func (vm *VM) Streams() int {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.streams
}
