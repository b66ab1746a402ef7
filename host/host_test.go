package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// newProbeVM starts a configured VM of a probe module.
func newProbeVM(t *testing.T, p probe, opts ...Option) *VM {
	t.Helper()
	ctx := context.Background()
	plugin, err := Compile(ctx, p.build(), opts...)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	t.Cleanup(func() { plugin.Close(ctx) })
	vm, err := plugin.NewVM(ctx)
	if err != nil {
		t.Fatalf("NewVM: %v", err)
	}
	if err := vm.Configure(nil); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return vm
}

func (vm *VM) u32(t *testing.T, addr uint32) uint32 {
	t.Helper()
	v, ok := vm.mem.ReadUint32Le(addr)
	if !ok {
		t.Fatalf("read %d: out of range", addr)
	}
	return v
}

func TestEncodeDecodePairs(t *testing.T) {
	cases := []struct {
		desc string
		in   []Header
	}{
		{desc: "empty", in: nil},
		{desc: "one", in: []Header{{"origin", "https://a.example"}}},
		{desc: "repeated and empty values", in: []Header{{":status", "200"}, {"vary", "a"}, {"vary", ""}, {"x", "b"}}},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			b := EncodePairs(tc.in)
			size := 4
			for _, h := range tc.in {
				size += 8 + len(h.Name) + 1 + len(h.Value) + 1
			}
			if len(b) != size {
				t.Fatalf("EncodePairs: got %d bytes; want %d", len(b), size)
			}
			got, err := DecodePairs(b)
			if err != nil {
				t.Fatalf("DecodePairs: %v", err)
			}
			if len(got) != len(tc.in) || (len(got) > 0 && !reflect.DeepEqual(got, tc.in)) {
				t.Fatalf("round trip: got %v; want %v", got, tc.in)
			}
		})
	}
	good := EncodePairs([]Header{{"ab", "cd"}})
	bad := []struct {
		desc string
		in   []byte
	}{
		{desc: "short count", in: []byte{1, 0}},
		{desc: "count beyond sizes", in: []byte{9, 0, 0, 0, 1, 0, 0, 0}},
		{desc: "truncated data", in: good[:len(good)-1]},
		{desc: "missing nul", in: append(append([]byte(nil), good[:len(good)-1]...), 'x')},
	}
	for _, tc := range bad {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := DecodePairs(tc.in); err == nil {
				t.Fatalf("DecodePairs(%v): got nil error; want one", tc.in)
			}
		})
	}
}

func TestHeaderMap(t *testing.T) {
	base := []Header{{":status", "200"}, {"Vary", "a"}, {"x", "1"}, {"vary", "b"}}
	cases := []struct {
		desc string
		op   func(m *headerMap)
		want []Header
	}{
		{desc: "names are lower-cased", op: func(*headerMap) {}, want: []Header{{":status", "200"}, {"vary", "a"}, {"x", "1"}, {"vary", "b"}}},
		{desc: "add appends", op: func(m *headerMap) { m.add("Vary", "c") }, want: []Header{{":status", "200"}, {"vary", "a"}, {"x", "1"}, {"vary", "b"}, {"vary", "c"}}},
		{desc: "replace keeps the first position, drops the rest", op: func(m *headerMap) { m.replace("VARY", "z") }, want: []Header{{":status", "200"}, {"vary", "z"}, {"x", "1"}}},
		{desc: "replace of an absent name appends", op: func(m *headerMap) { m.replace("y", "2") }, want: []Header{{":status", "200"}, {"vary", "a"}, {"x", "1"}, {"vary", "b"}, {"y", "2"}}},
		{desc: "remove drops every value", op: func(m *headerMap) { m.remove("Vary") }, want: []Header{{":status", "200"}, {"x", "1"}}},
		{desc: "set replaces the map", op: func(m *headerMap) { m.set([]Header{{"A", "b"}}) }, want: []Header{{"a", "b"}}},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			m := newHeaderMap(base, 0)
			tc.op(m)
			if !reflect.DeepEqual(m.h, tc.want) {
				t.Fatalf("got %v; want %v", m.h, tc.want)
			}
		})
	}
	t.Run("an inline header's lines are joined, as Envoy's addCopy joins them", func(t *testing.T) {
		m := &headerMap{inline: responseInline}
		for _, kv := range []Header{{":status", "200"}, {"Vary", "a"}, {"x", "1"}, {"vary", ""}, {"VARY", "b"}, {"x", "2"}, {"access-control-allow-origin", ""}, {"access-control-allow-origin", "*"}} {
			m.add(kv.Name, kv.Value)
		}
		want := []Header{{":status", "200"}, {"vary", "a,b"}, {"x", "1"}, {"x", "2"}, {"access-control-allow-origin", "*"}}
		if !reflect.DeepEqual(m.h, want) {
			t.Fatalf("got %v; want %v", m.h, want)
		}
	})
	m := newHeaderMap(base, 0)
	if v, ok := m.get([]byte("VaRy")); !ok || v != "a" {
		t.Fatalf("get(VaRy): got %q, %v; want the first value %q", v, ok, "a")
	}
}

func TestProbe_properties_and_poll_oneoff(t *testing.T) {
	cases := []struct {
		desc       string
		poll       PollOneoff
		props      map[string]string
		wantStatus uint32
		wantLog    string
		wantErrno  uint32
	}{
		{desc: "older host: route found, poll_oneoff ENOSYS", poll: PollOneoffENOSYS, props: map[string]string{"xds.route_name": "api"}, wantStatus: statusOK, wantLog: "api", wantErrno: errnoNosys},
		{desc: "newer host: poll_oneoff 0 events", poll: PollOneoffNoEvents, props: map[string]string{"xds.route_name": "web"}, wantStatus: statusOK, wantLog: "web", wantErrno: errnoSuccess},
		{desc: "missing property: NotFound", poll: PollOneoffENOSYS, wantStatus: statusNotFound, wantErrno: errnoNosys},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			vm := newProbeVM(t, probe{}, WithPollOneoff(tc.poll))
			res, err := vm.RoundTrip(Request{Method: "GET", Authority: "a", Path: "/", Properties: tc.props}, nil)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if !res.Forwarded || res.Status != 200 {
				t.Fatalf("RoundTrip: got %+v; want forwarded 200", res)
			}
			if got := vm.u32(t, addrPropStat); got != tc.wantStatus {
				t.Fatalf("proxy_get_property status: got %d; want %d", got, tc.wantStatus)
			}
			if tc.wantLog != "" && !slices.Contains(vm.Logs(LogInfo), tc.wantLog) {
				t.Fatalf("info logs: got %q; want %q among them", vm.Logs(LogInfo), tc.wantLog)
			}
			if got := vm.u32(t, addrPollErr); got != tc.wantErrno {
				t.Fatalf("poll_oneoff errno: got %d; want %d", got, tc.wantErrno)
			}
			if got := vm.PollOneoffCalls(); got != 1 {
				t.Fatalf("PollOneoffCalls: got %d; want 1", got)
			}
			if v := vm.Violations(); len(v) != 0 {
				t.Fatalf("Violations: got %v; want none", v)
			}
		})
	}
}

func TestProbe_restricted_callbacks(t *testing.T) {
	t.Run("proxy_log during _initialize is allowed", func(t *testing.T) {
		vm := newProbeVM(t, probe{initLogs: true})
		if got := vm.Logs(LogInfo); !slices.Equal(got, []string{"hello"}) {
			t.Fatalf("info logs: got %q; want [hello]", got)
		}
	})
	t.Run("a message below WithLogLevel is dropped, as Envoy drops it", func(t *testing.T) {
		vm := newProbeVM(t, probe{initLogs: true}, WithLogLevel(LogWarn))
		if got := vm.Logs(LogInfo); len(got) != 0 {
			t.Fatalf("info logs under WithLogLevel(LogWarn): got %q; want none", got)
		}
		vm = newProbeVM(t, probe{initLogs: true}, WithLogLevel(LogInfo))
		if got := vm.Logs(LogInfo); !slices.Equal(got, []string{"hello"}) {
			t.Fatalf("info logs under WithLogLevel(LogInfo): got %q; want [hello]", got)
		}
	})
	t.Run("proxy_get_property during _initialize kills the VM", func(t *testing.T) {
		ctx := context.Background()
		plugin, err := Compile(ctx, probe{initGetsProperty: true}.build())
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		defer plugin.Close(ctx)
		_, err = plugin.NewVM(ctx)
		if !errors.Is(err, ErrRestrictedCallback) || !strings.Contains(err.Error(), "env.proxy_get_property called during _initialize") {
			t.Fatalf("NewVM: got %v; want a restricted callback error naming env.proxy_get_property", err)
		}
	})
	t.Run("proxy_get_property inside proxy_on_memory_allocate kills the VM", func(t *testing.T) {
		vm := newProbeVM(t, probe{mallocGetsProperty: true})
		req := Request{Method: "GET", Authority: "a", Path: "/", Properties: map[string]string{"xds.route_name": "api"}}
		_, err := vm.RoundTrip(req, nil)
		if !errors.Is(err, ErrRestrictedCallback) {
			t.Fatalf("RoundTrip: got %v; want ErrRestrictedCallback", err)
		}
		want := []Violation{{Phase: "proxy_on_memory_allocate", Function: "env.proxy_get_property"}}
		if got := vm.Violations(); !reflect.DeepEqual(got, want) {
			t.Fatalf("Violations: got %v; want %v", got, want)
		}
		if _, err := vm.RoundTrip(req, nil); err == nil || vm.Err() == nil {
			t.Fatalf("RoundTrip after the VM died: got nil error; want the VM's error")
		}
	})
}

func TestProbe_import_Envoy_lacks_is_refused(t *testing.T) {
	ctx := context.Background()
	plugin, err := Compile(ctx, probe{extraImport: true}.build())
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	defer plugin.Close(ctx)
	if _, err := plugin.NewVM(ctx); err == nil || !strings.Contains(err.Error(), "fd_read") {
		t.Fatalf("NewVM: got %v; want an error naming fd_read", err)
	}
}

func TestProbe_buffers(t *testing.T) {
	vm := newProbeVM(t, probe{})
	get := func(typ uint64) uint64 {
		s := []uint64{typ, 0, 1 << 20, addrRet, addrSize}
		vm.proxyGetBufferBytes(s)
		return s[0]
	}
	if got := get(bufferPluginConfig); got != statusNotFound {
		t.Fatalf("plugin configuration outside proxy_on_configure: got status %d; want NotFound", got)
	}
	vm.inConfigure, vm.pluginConfig = true, []byte(`{"a":1}`)
	if got := get(bufferPluginConfig); got != statusOK {
		t.Fatalf("plugin configuration during proxy_on_configure: got status %d; want OK", got)
	}
	b, _ := vm.mem.Read(vm.u32(t, addrRet), vm.u32(t, addrSize))
	if string(b) != `{"a":1}` {
		t.Fatalf("plugin configuration: got %q", b)
	}
	vm.pluginConfig = nil
	vm.mem.WriteUint32Le(addrRet, 0)
	if got := get(bufferPluginConfig); got != statusOK || vm.u32(t, addrRet) != 0 {
		t.Fatalf("empty plugin configuration: got status %d, pointer %d; want OK and nothing written (the SDK reads NotFound)", got, vm.u32(t, addrRet))
	}
	vm.inConfigure = false
	if got := get(9); got != statusBadArgument {
		t.Fatalf("buffer type 9: got status %d; want BadArgument", got)
	}
}

// wasmPath returns build/<name> from the repository root, skipping (or
// failing under CORS_REQUIRE_WASM=1) when it has not been built.
func wasmPath(t testing.TB, name string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the working directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "build", name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CORS_REQUIRE_WASM") == "1" {
			t.Fatalf("build/%s is missing (CORS_REQUIRE_WASM=1): run `make build`", name)
		}
		t.Skipf("build/%s is missing: run `make build`", name)
	}
	return p
}

func TestNoop_lifecycle(t *testing.T) {
	b, err := os.ReadFile(wasmPath(t, "noop.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vm, err := New(ctx, b)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer vm.Close(ctx)
	if _, err := vm.RoundTrip(Request{Method: "GET"}, nil); err == nil {
		t.Fatalf("RoundTrip before Configure: got nil error; want one")
	}
	if err := vm.Configure(nil); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if err := vm.Configure(nil); err == nil {
		t.Fatalf("second Configure: got nil error; want one")
	}
	upstream := func(r Request) Response {
		return Response{Status: 201, Headers: []Header{{"X-Up", r.Path}}, Body: []byte("hi")}
	}
	for i := range 2000 {
		res, err := vm.RoundTrip(Request{Method: "POST", Authority: "a.example", Path: "/p", Headers: []Header{{"Origin", "https://o.example"}}, Body: []byte("x")}, upstream)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		if v, _ := res.Header("x-up"); res.Status != 201 || v != "/p" || !res.Forwarded || string(res.Body) != "hi" {
			t.Fatalf("stream %d: got %+v; want the upstream's 201", i, res)
		}
	}
	if got := vm.StreamsStarted(); got != 2000 {
		t.Fatalf("Streams: got %d; want 2000", got)
	}
	if v := vm.Violations(); len(v) != 0 {
		t.Fatalf("Violations: got %v", v)
	}
	if n := vm.PollOneoffCalls(); n != 0 {
		t.Fatalf("PollOneoffCalls: got %d; want 0", n)
	}
}

// TestProbe_inline_headers_are_joined checks that a stream's header maps
// join the repeated lines of the headers Envoy keeps inline, on the request
// as the codec builds it and on the upstream's response, and that
// WithHeaderMerging(false) keeps them apart.
func TestProbe_inline_headers_are_joined(t *testing.T) {
	req := Request{Method: "GET", Authority: "a", Path: "/", Headers: []Header{
		{"Origin", "https://a.example"}, {"x-other", "1"}, {"origin", "https://evil.example"}, {"x-other", "2"},
		{"access-control-request-headers", "x-a"}, {"access-control-request-headers", "x-b"}}}
	resp := Response{Headers: []Header{{"vary", "Accept"}, {"vary", "Origin"}, {"access-control-allow-origin", "*"}, {"Access-Control-Allow-Origin", "https://a.example"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"}}}
	for _, merge := range []bool{true, false} {
		vm := newProbeVM(t, probe{}, WithHeaderMerging(merge))
		var up Request
		res, err := vm.RoundTrip(req, func(r Request) Response { up = r; return resp })
		if err != nil {
			t.Fatal(err)
		}
		m := headerMap{h: up.Headers}
		count := func(hs []Header, name string) int {
			n := 0
			for _, kv := range hs {
				if strings.EqualFold(kv.Name, name) {
					n++
				}
			}
			return n
		}
		origin, _ := m.lookup("origin")
		if merge {
			if origin != "https://a.example,https://evil.example" || count(up.Headers, "origin") != 1 || count(up.Headers, "x-other") != 2 {
				t.Errorf("merged request: got %v; want one joined origin and two x-other lines", up.Headers)
			}
			if v := res.Values("vary"); !slices.Equal(v, []string{"Accept,Origin"}) || !slices.Equal(res.Values("access-control-allow-origin"), []string{"*,https://a.example"}) || count(res.Headers, "set-cookie") != 2 {
				t.Errorf("merged response: got %v", res.Headers)
			}
		} else if count(up.Headers, "origin") != 2 || count(res.Headers, "vary") != 2 {
			t.Errorf("separate lines: got request %v, response %v", up.Headers, res.Headers)
		}
	}
}
