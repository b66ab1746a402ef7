package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// abiMaxWasmSize is the size budget of docs/spec.md §6 for a stripped plugin
// (-trimpath -ldflags="-s -w"): 3.5 MB, read strictly as 3,500,000 bytes.
const abiMaxWasmSize = 3_500_000

const (
	abiI32 = api.ValueTypeI32
	abiI64 = api.ValueTypeI64
)

// abiSignature is a wasm function type.
type abiSignature struct{ params, results []api.ValueType }

// abiFunc returns the function type (params) -> (results).

func abiFunc(params []api.ValueType, results ...api.ValueType) abiSignature {
	return abiSignature{params, results}
}

// abiI32s returns n i32 types.
func abiI32s(n int) []api.ValueType { return slices.Repeat([]api.ValueType{abiI32}, n) }

// abiExports are the exports Envoy calls in a plain HTTP filter's life,
// with their proxy-wasm ABI 0.2.1 types.
var abiExports = map[string]abiSignature{
	"_initialize":               abiFunc(nil),
	"proxy_abi_version_0_2_0":   abiFunc(nil),
	"proxy_on_memory_allocate":  abiFunc(abiI32s(1), abiI32),
	"proxy_on_context_create":   abiFunc(abiI32s(2)),
	"proxy_on_vm_start":         abiFunc(abiI32s(2), abiI32),
	"proxy_on_configure":        abiFunc(abiI32s(2), abiI32),
	"proxy_on_request_headers":  abiFunc(abiI32s(3), abiI32),
	"proxy_on_response_headers": abiFunc(abiI32s(3), abiI32),
	"proxy_on_done":             abiFunc(abiI32s(1), abiI32),
	"proxy_on_log":              abiFunc(abiI32s(1)),
	"proxy_on_delete":           abiFunc(abiI32s(1)),
}

// abiHostCalls are the 29 env.proxy_* host calls of ABI 0.2.1. The ABI
// layer imports them all; a build that silently compiled the SDK's mock host
// imports none.
var abiHostCalls = map[string]abiSignature{
	"proxy_log":                          abiFunc(abiI32s(3), abiI32),
	"proxy_set_property":                 abiFunc(abiI32s(4), abiI32),
	"proxy_get_property":                 abiFunc(abiI32s(4), abiI32),
	"proxy_send_local_response":          abiFunc(abiI32s(8), abiI32),
	"proxy_get_shared_data":              abiFunc(abiI32s(5), abiI32),
	"proxy_set_shared_data":              abiFunc(abiI32s(5), abiI32),
	"proxy_register_shared_queue":        abiFunc(abiI32s(3), abiI32),
	"proxy_resolve_shared_queue":         abiFunc(abiI32s(5), abiI32),
	"proxy_dequeue_shared_queue":         abiFunc(abiI32s(3), abiI32),
	"proxy_enqueue_shared_queue":         abiFunc(abiI32s(3), abiI32),
	"proxy_get_header_map_value":         abiFunc(abiI32s(5), abiI32),
	"proxy_add_header_map_value":         abiFunc(abiI32s(5), abiI32),
	"proxy_replace_header_map_value":     abiFunc(abiI32s(5), abiI32),
	"proxy_remove_header_map_value":      abiFunc(abiI32s(3), abiI32),
	"proxy_get_header_map_pairs":         abiFunc(abiI32s(3), abiI32),
	"proxy_set_header_map_pairs":         abiFunc(abiI32s(3), abiI32),
	"proxy_continue_stream":              abiFunc(abiI32s(1), abiI32),
	"proxy_close_stream":                 abiFunc(abiI32s(1), abiI32),
	"proxy_get_buffer_bytes":             abiFunc(abiI32s(5), abiI32),
	"proxy_set_buffer_bytes":             abiFunc(abiI32s(5), abiI32),
	"proxy_http_call":                    abiFunc(abiI32s(10), abiI32),
	"proxy_call_foreign_function":        abiFunc(abiI32s(6), abiI32),
	"proxy_set_tick_period_milliseconds": abiFunc(abiI32s(1), abiI32),
	"proxy_set_effective_context":        abiFunc(abiI32s(1), abiI32),
	"proxy_done":                         abiFunc(nil, abiI32),
	"proxy_define_metric":                abiFunc(abiI32s(4), abiI32),
	"proxy_increment_metric":             abiFunc([]api.ValueType{abiI32, abiI64}, abiI32),
	"proxy_record_metric":                abiFunc([]api.ValueType{abiI32, abiI64}, abiI32),
	"proxy_get_metric":                   abiFunc(abiI32s(2), abiI32),
}

// abiWASI are the wasi_snapshot_preview1 functions Envoy (>= 1.33)
// provides; a module importing anything else does not load.
var abiWASI = []string{
	"sched_yield", "proc_exit", "args_get", "args_sizes_get", "clock_time_get",
	"environ_get", "environ_sizes_get", "fd_write", "random_get", "poll_oneoff",
	"fd_close", "fd_fdstat_get", "fd_fdstat_set_flags", "fd_prestat_get",
	"fd_prestat_dir_name",
}

func TestABICorsWasm(t *testing.T) { checkABI(t, filepath.Join("..", "build", "cors.wasm")) }

func TestABINoopWasm(t *testing.T) { checkABI(t, filepath.Join("..", "build", "noop.wasm")) }

// checkABI verifies that the module at path is a loadable proxy-wasm plugin:
// small enough, exporting the callbacks Envoy calls, and importing only what
// Envoy provides, including the real host calls.
func checkABI(t *testing.T, path string) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CORS_REQUIRE_WASM") == "1" {
			t.Fatalf("%s: %v (run make build)", path, err)
		}
		t.Skipf("%s not built (run make build): %v", path, err)
	}
	if len(wasm) > abiMaxWasmSize {
		t.Errorf("%s is %d bytes, over the %d byte budget", path, len(wasm), abiMaxWasmSize)
	}

	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	mod, err := r.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}

	if _, ok := mod.ExportedMemories()["memory"]; !ok {
		t.Error("no exported memory \"memory\": the host cannot read or write guest buffers")
	}
	exports := mod.ExportedFunctions()
	for name, want := range abiExports {
		fn, ok := exports[name]
		if !ok {
			t.Errorf("export %s: missing", name)
			continue
		}
		if got := abiSignatureOf(fn); !got.equal(want) {
			t.Errorf("export %s: type %v, want %v", name, got, want)
		}
	}

	imported := map[string]bool{}
	for _, fn := range mod.ImportedFunctions() {
		module, name, _ := fn.Import()
		imported[module+"."+name] = true
		switch module {
		case "env":
			want, ok := abiHostCalls[name]
			if !ok {
				t.Errorf("import env.%s: not a proxy-wasm host call", name)
			} else if got := abiSignatureOf(fn); !got.equal(want) {
				t.Errorf("import env.%s: type %v, want %v", name, got, want)
			}
		case "wasi_snapshot_preview1":
			if !slices.Contains(abiWASI, name) {
				t.Errorf("import %s.%s: not provided by Envoy", module, name)
			}
		default:
			t.Errorf("import %s.%s: unknown module", module, name)
		}
	}
	var missing []string
	for name := range abiHostCalls {
		if !imported["env."+name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Errorf("%s does not import env.{%s}: did the SDK's mock host get compiled in?",
			path, strings.Join(missing, ", "))
	}
}

func abiSignatureOf(fn api.FunctionDefinition) abiSignature {
	return abiSignature{fn.ParamTypes(), fn.ResultTypes()}
}

func (s abiSignature) equal(o abiSignature) bool {
	return slices.Equal(s.params, o.params) && slices.Equal(s.results, o.results)
}

func (s abiSignature) String() string {
	name := func(ts []api.ValueType) string {
		names := make([]string, len(ts))
		for i, t := range ts {
			names[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(names, ",") + ")"
	}
	return name(s.params) + "->" + name(s.results)
}
