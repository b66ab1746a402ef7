package e2e

import (
	"os"
	"strconv"
	"testing"

	"github.com/corsfilter/corsfilter/host"
)

// soakRequests is the mix of the soak test.
var soakRequests = []struct {
	name string
	req  host.Request
	up   host.Response
}{
	{name: "preflight-allowed", req: preflight(app, "PUT", "x-token")},
	{name: "preflight-denied", req: preflight(evil, "PUT", "")},
	{name: "actual-allowed", req: actual("GET", app), up: host.Response{Status: 200, Headers: h("content-type", "application/json", "vary", "Accept-Encoding", "access-control-allow-origin", "*")}},
	{name: "actual-denied", req: actual("POST", evil)},
	{name: "not-cors", req: actual("GET", ""), up: host.Response{Status: 200, Headers: h("content-type", "text/html")}},
}

// Test_that_memory_stays_flat_over_100k_streams runs 100,000 streams on one
// VM, as one Envoy worker would, under the older-Envoy emulation (poll_oneoff
// answers ENOSYS): linear memory must not grow after warm-up, and the plugin
// must make no restricted call and never call poll_oneoff.
func Test_that_memory_stays_flat_over_100k_streams(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 100,000 streams")
	}
	vm := newVM(t, corsPlugin, credentialed)
	// Measured: the guest's Go heap settles in 64 KiB steps whose timing
	// depends on the GC pacer (it reads the clock); the last step came
	// between stream 40k and 60k, then memory stayed flat to 400k. So at
	// most one page of growth from 50k to 100k (a leak of 2 bytes per
	// stream would exceed it), and at most two from 10k to 100k.
	// CORS_SOAK_STREAMS raises the count, e.g. to the 1,000,000 streams of
	// docs/spec.md §6; the warm-up points stay where the heap settles.
	const early, warmup = 10_000, 50_000
	total := 100_000
	if n, err := strconv.Atoi(os.Getenv("CORS_SOAK_STREAMS")); err == nil && n > warmup {
		total = n
	}
	var atEarly, afterWarmup uint32
	for i := range total {
		s := soakRequests[i%len(soakRequests)]
		res, err := vm.RoundTrip(s.req, func(host.Request) host.Response { return s.up })
		if err != nil {
			t.Fatalf("stream %d (%s): %v", i, s.name, err)
		}
		if res.Status == 0 {
			t.Fatalf("stream %d (%s): no status", i, s.name)
		}
		switch i + 1 {
		case early:
			atEarly = vm.MemorySize()
		case warmup:
			afterWarmup = vm.MemorySize()
		}
		if i%10_000 == 0 {
			vm.ResetLogs() // host-side retention only; the guest is unaffected
		}
	}
	final := vm.MemorySize()
	t.Logf("linear memory: %.2f MiB after %d streams, %.2f MiB after %d, %.2f MiB after %d",
		float64(atEarly)/(1<<20), early, float64(afterWarmup)/(1<<20), warmup, float64(final)/(1<<20), total)
	if final > afterWarmup+65536 {
		t.Errorf("linear memory grew from %d to %d bytes between stream %d and %d (more than one page)", afterWarmup, final, warmup, total)
	}
	if final > atEarly+2*65536 {
		t.Errorf("linear memory grew from %d to %d bytes between stream %d and %d (more than two pages)", atEarly, final, early, total)
	}
	if got := vm.StreamsStarted(); got != total {
		t.Errorf("streams: got %d; want %d", got, total)
	}
	if got, _ := vm.Metric("cors.default.preflight_allowed"); got != uint64((total+len(soakRequests)-1)/len(soakRequests)) {
		t.Errorf("cors.default.preflight_allowed: got %d; want %d", got, (total+len(soakRequests)-1)/len(soakRequests))
	}
	checkHealthy(t, vm)
}
