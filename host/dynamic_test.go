package host

import (
	"testing"
	"time"
)

// This file tests shared data, proxy_http_call and ticks against Envoy's
// semantics (proxy-wasm-cpp-host src/shared_data.cc and exports.cc,
// Envoy's Context::httpCall).

func Test_that_shared_data_follows_envoys_compare_and_swap(t *testing.T) {
	var d sharedData
	if _, ok := d.get("k"); ok {
		t.Fatal("a key never written was found")
	}
	// A key not yet written is written whatever the cas.
	if st := d.set("k", []byte("a"), 42); st != statusOK {
		t.Fatalf("first write with cas 42: %d", st)
	}
	e, _ := d.get("k")
	if e.cas != 1 || string(e.value) != "a" {
		t.Fatalf("first value: %q cas %d; want \"a\" cas 1", e.value, e.cas)
	}
	if st := d.set("k", []byte("b"), 7); st != statusCasMismatch {
		t.Errorf("a stale cas: %d; want CasMismatch (%d)", st, statusCasMismatch)
	}
	if st := d.set("k", []byte("b"), e.cas); st != statusOK {
		t.Errorf("the current cas: %d", st)
	}
	if st := d.set("k", []byte("c"), 0); st != statusOK {
		t.Errorf("cas 0 writes unconditionally: %d", st)
	}
	if e, _ := d.get("k"); e.cas != 3 || string(e.value) != "c" {
		t.Errorf("after three writes: %q cas %d", e.value, e.cas)
	}
	d.nextCas = 0xffffffff
	d.set("k", nil, 0)
	if d.nextCas != 1 {
		t.Errorf("the cas counter wraps to %d; want 1 (0 is no cas)", d.nextCas)
	}
}

func Test_that_the_new_host_calls_are_restricted_as_in_envoy(t *testing.T) {
	for _, f := range envFuncs {
		switch f.name {
		case "proxy_http_call", "proxy_get_shared_data", "proxy_set_shared_data", "proxy_set_tick_period_milliseconds":
			if f.allowInit || f.allowAlloc {
				t.Errorf("%s is allowed during _initialize or proxy_on_memory_allocate; Envoy kills the VM", f.name)
			}
		}
	}
}

func Test_that_an_http_call_is_checked_as_envoy_checks_it(t *testing.T) {
	answered := 0
	vm := newProbeVM(t, probe{}, WithFakeClock(time.Unix(1000, 0)), WithUpstream("registry", func(c HTTPCall) HTTPAnswer {
		answered++
		return HTTPAnswer{Delay: time.Second}
	}))
	vm.inRoot = vm.roots[0]
	defer func() { vm.inRoot = nil }()
	const addrCluster, addrHeaders = 200, 300
	call := func(cluster string, headers []Header, timeout uint32) uint64 {
		vm.mem.WriteString(addrCluster, cluster)
		pairs := EncodePairs(headers)
		vm.mem.Write(addrHeaders, pairs)
		s := []uint64{addrCluster, uint64(len(cluster)), addrHeaders, uint64(len(pairs)), 0, 0, 0, 0, uint64(timeout), addrRet}
		vm.proxyHttpCall(s)
		return s[0]
	}
	good := []Header{{Name: ":method", Value: "GET"}, {Name: ":path", Value: "/o"}, {Name: ":authority", Value: "r"}}
	if st := call("nowhere", good, 100); st != statusBadArgument {
		t.Errorf("an unknown cluster: %d; want BadArgument", st)
	}
	if st := call("registry", good[:2], 100); st != statusBadArgument {
		t.Errorf("no :authority: %d; want BadArgument", st)
	}
	if st := call("registry", good, 0x80000000); st != statusBadArgument {
		t.Errorf("a negative timeout: %d; want BadArgument", st)
	}
	if answered != 0 {
		t.Fatalf("refused calls reached the upstream")
	}
	if st := call("registry", good, 500); st != statusOK {
		t.Fatalf("a good call: %d", st)
	}
	if token, _ := vm.mem.ReadUint32Le(addrRet); token == 0 {
		t.Error("no callout token written")
	}
	// Its answer takes 1 s, past the 500 ms timeout: Envoy's router
	// answers 504 at 500 ms.
	p := vm.plugin
	if len(p.pending) != 1 || p.pending[0].answer.Status != 504 || !p.pending[0].due.Equal(time.Unix(1000, 500e6)) {
		t.Fatalf("pending: %+v", p.pending)
	}
	// A retired root's calls are cancelled.
	p.cancelCalls(vm.roots[0])
	if p.PendingHTTPCalls() != 0 {
		t.Error("the root's call survived its retirement")
	}
}
