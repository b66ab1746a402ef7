package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsfilter/corsfilter/host"
)

// dynamicProofConfig has every feature that works on the tick: an origin
// source refreshed every second, a candidate in the shadow whose
// divergences are logged, and the denied-origins report every 10 s.
const dynamicProofConfig = `{
  "origin_sources": [{"name": "partners", "cluster": "registry", "authority": "registry.internal",
                      "path": "/origins", "refresh_seconds": 1, "timeout_ms": 500, "max_origins": 2000}],
  "report_interval_seconds": 10,
  "allowed_origins": ["https://app.example.com"],
  "allowed_origin_sets": ["partners"],
  "allowed_methods": ["PUT"],
  "candidate": {"allowed_origins": ["https://app.example.com"]}
}`

// Test_that_ticks_and_fetches_never_call_poll_oneoff extends the proof for
// Envoy 1.33-1.38 (Test_that_the_guest_runtime_never_calls_poll_oneoff) to
// the work the plugin does on its tick: origin sets fetched with
// proxy_http_call and shared through shared data, the set rebuilt at each
// new version, divergences logged and the report written. That work
// allocates, unlike the stream path, so garbage collections run; the proof
// holds if the guest never enters the scheduler. Under the older-Envoy host
// (poll_oneoff: ENOSYS, the default), for 10 s of wall-clock time and as
// many seconds of the fake clock as that allows, a registry whose set
// changes every second (up to 2,000 origins), and streams of every kind
// from changing origins: no poll_oneoff call, no restricted call, no VM
// death. The benchmark build counts the garbage collections it ran.
func Test_that_ticks_and_fetches_never_call_poll_oneoff(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 10 s of wall-clock time")
	}
	wasm := corsWasm
	_, twins := haveBenchPlugins()
	if twins {
		b, err := os.ReadFile(benchWasmPath(t, "cors-bench.wasm"))
		if err != nil {
			t.Fatal(err)
		}
		wasm = b
	}
	reg := &registry{}
	p, vms := fleet(t, wasm, dynamicProofConfig, reg, 2)
	start := time.Now()
	seconds, streams := 0, 0
	for time.Since(start) < 10*time.Second {
		seconds++
		n := 1 + (seconds*37)%2000
		list := make([]string, n)
		for i := range list {
			list[i] = "https://p" + strconv.Itoa(seconds+i) + ".partner.example"
		}
		reg.set(func(r *registry) { r.origins, r.etag = list, `"v`+strconv.Itoa(seconds)+`"` })
		advance(t, p, time.Second)
		for i, vm := range vms {
			for k := range 20 {
				origin := "https://p" + strconv.Itoa(seconds+k) + ".partner.example"
				if k%3 == 0 {
					origin = "https://scanner-" + strconv.Itoa(seconds*100+k) + ".example"
				}
				req := actual("GET", origin)
				if k%2 == 1 {
					req = preflight(origin, "PUT", "")
				}
				if _, err := vm.RoundTrip(req, func(host.Request) host.Response { return host.Response{Status: 200} }); err != nil {
					t.Fatalf("vm %d, %d s: %v", i, seconds, err)
				}
				streams++
			}
		}
	}
	gcs := "no benchmark build, so no GC count"
	if twins {
		var n uint64
		for _, vm := range vms {
			n += guestMetric(t, vm, metricGCCycles)
		}
		gcs = strconv.FormatUint(n, 10) + " GC cycles"
		if n == 0 {
			t.Errorf("no garbage collection ran: the test proves nothing about them")
		}
	}
	for _, vm := range vms {
		checkHealthy(t, vm)
		if logs := strings.Join(vm.Logs(host.LogWarn), "\n"); strings.Contains(logs, "internal fault") {
			t.Errorf("internal fault logged: %s", logs)
		}
	}
	t.Logf("under the older-Envoy host: %d s of ticks, %d fetches, %d streams on 2 VMs, %s; 0 poll_oneoff calls, 0 restricted calls, no VM died",
		seconds, len(p.HTTPCalls()), streams, gcs)
}
