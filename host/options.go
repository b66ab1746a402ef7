package host

import (
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
)

// This file holds the options of a [Plugin], with their defaults.

// PollOneoff selects how wasi_snapshot_preview1.poll_oneoff answers.
type PollOneoff uint8

const (
	// PollOneoffENOSYS answers ENOSYS (52), as Envoy builds whose
	// proxy-wasm host predates proxy-wasm-cpp-host PR #533 do. A Go guest
	// then dies with "fatal error: poll_oneoff failed". The default.
	PollOneoffENOSYS PollOneoff = iota
	// PollOneoffNoEvents succeeds with 0 events, as newer hosts do, also
	// inside proxy_on_memory_allocate, where older hosts refuse it.
	PollOneoffNoEvents
)

// Option configures a [Plugin].
type Option func(*options)

type options struct {
	poll       PollOneoff
	separate   bool // !WithHeaderMerging
	vmConfig   []byte
	properties map[string]string
	sink       func(LogLevel, string)
	trace      func(vm *VM, export string, contextID uint32)
	maxLogs    int
	logLevel   LogLevel
	cache      wazero.CompilationCache
	fakeStart  time.Time           // WithFakeClock; zero: the real clock
	upstreams  map[string]Upstream // WithUpstream, by cluster
}

// WithPollOneoff selects the poll_oneoff behaviour (default
// [PollOneoffENOSYS], the older Envoy).
func WithPollOneoff(p PollOneoff) Option { return func(o *options) { o.poll = p } }

// WithHeaderMerging says whether repeated lines of the headers Envoy keeps
// inline (Origin, Access-Control-Request-Method and -Headers,
// X-Forwarded-Proto; the Access-Control-Allow-* and Vary response headers)
// are joined into one comma-separated value before the plugin sees them,
// as Envoy joins them. Default: on. Off keeps every line apart, for tests
// of how the plugin reads separate lines (other proxies, and Envoy for
// headers it does not keep inline, deliver them so).
func WithHeaderMerging(on bool) Option { return func(o *options) { o.separate = !on } }

// WithVMConfiguration sets the VM configuration (buffer type 6), readable
// at any time, as in Envoy. Default: empty.
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

// WithCallTrace calls fn before every guest export the host calls, with
// the VM (a canary of [VM.Reconfigure] is a VM of its own), the export's
// name and its first argument (the context ID of the proxy_on_* callbacks;
// 0 for _initialize), proxy_on_memory_allocate excepted. fn runs while the
// VM is locked: it must not call back into the VM. Default: none.
func WithCallTrace(fn func(vm *VM, export string, contextID uint32)) Option {
	return func(o *options) { o.trace = fn }
}

// WithLogLevel sets the lowest level of the guest's messages the host
// keeps, as Envoy's log level for the wasm component does
// (--component-log-level wasm:info is Envoy's default): a message below it
// is checked as any other (its memory, its level) and then dropped, without
// a copy, as Envoy drops it. Default: LogTrace, every message, for tests
// that read the debug lines.
func WithLogLevel(l LogLevel) Option { return func(o *options) { o.logLevel = l } }

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
