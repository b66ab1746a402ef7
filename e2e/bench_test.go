package e2e

import (
	"runtime"
	"testing"
	"time"

	"github.com/corsfilter/corsfilter/host"
)

// benchConfig covers every kind of BenchmarkStream with one configuration:
// credentials, extra methods and headers, exposed headers and a max age at
// the top level, inherited by two rules, of which the first rejects
// disallowed origins under /admin/.
const benchConfig = `{
  "allowed_origins": ["https://app.example.com"],
  "allowed_methods": ["PUT", "DELETE"],
  "allowed_request_headers": ["x-token"],
  "exposed_response_headers": ["x-request-id"],
  "allow_credentials": true,
  "max_age_seconds": 600,
  "rules": [
    {"name": "admin", "match": {"path_prefixes": ["/admin/"]}, "reject_disallowed_origins": true},
    {"name": "api"}
  ]
}`

// benchKind is one kind of request of BenchmarkStream, with what the client
// must receive through cors.wasm.
type benchKind struct {
	name   string
	req    host.Request
	up     host.Response // the upstream's response, or a later filter's local reply
	status int
	local  bool   // answered by the plugin itself
	acao   string // Access-Control-Allow-Origin, or "" for no CORS header
}

var benchKinds = []benchKind{
	{name: "preflight-allowed", req: preflight(app, "PUT", "x-token"), status: 204, local: true, acao: app},
	{name: "preflight-denied", req: preflight(evil, "PUT", ""), status: 403, local: true},
	{
		name: "actual-allowed", req: actual("GET", app),
		up:     host.Response{Status: 200, Headers: h("content-type", "application/json", "vary", "Accept-Encoding", "access-control-allow-origin", "*")},
		status: 200, acao: app,
	},
	{name: "actual-denied", req: actual("POST", evil), up: host.Response{Status: 200, Headers: h("content-type", "application/json")}, status: 200},
	{name: "not-cors", req: actual("GET", ""), up: host.Response{Status: 200, Headers: h("content-type", "text/html")}, status: 200},
	// reject_disallowed_origins: a local 403 instead of the upstream.
	{name: "reject-403", req: func() host.Request { r := actual("POST", evil); r.Path = "/admin/users"; return r }(), status: 403, local: true},
	// A later filter's local reply (a JWT 401) travels the response path,
	// as the host emulates it: the "upstream" of this filter answers 401.
	{
		name: "later-401", req: actual("GET", app),
		up:     host.Response{Status: 401, Headers: h("www-authenticate", `Bearer realm="api"`), Body: []byte("Jwt is missing")},
		status: 401, acao: app,
	},
}

// checkBenchKind runs k once through vm (cors.wasm) and checks that the
// client gets what k says, so that the benchmark measures what its name
// claims.
func checkBenchKind(tb testing.TB, vm *host.VM, k benchKind) {
	tb.Helper()
	res, err := vm.RoundTrip(k.req, func(host.Request) host.Response { return k.up })
	if err != nil {
		tb.Fatalf("%s: %v", k.name, err)
	}
	acao, _ := res.Header("access-control-allow-origin")
	if res.Status != k.status || res.LocalReply != k.local || acao != k.acao {
		tb.Fatalf("%s: got status %d, local reply %v, ACAO %q; want %d, %v, %q",
			k.name, res.Status, res.LocalReply, acao, k.status, k.local, k.acao)
	}
}

// benchBatch is how many streams run through one plugin before the other
// takes its turn.
const benchBatch = 8

// BenchmarkStream runs each kind of request through cors.wasm and through
// noop.wasm (the same toolchain and ABI layer, doing nothing), on one VM
// each, interleaved in batches of 8 streams with the order swapped every
// round, and times each batch with the thread's CPU time. On a noisy
// machine both plugins see the same noise, so the ratio holds.
//
// It reports, per stream: cors-ns/stream and noop-ns/stream (thread CPU
// time of a whole stream: context create, request headers, upstream,
// response headers and body, done, log, delete), cors/noop (budget: ≤ 2,
// moonshot 1.3), and guest-allocs/stream: heap allocations of cors.wasm's
// Go runtime, read from its own exact counter (runtime.MemStats.Mallocs,
// through the test-only export of build/cors-bench.wasm) before and after
// the measured rounds (budget: 0); noop-guest-allocs/stream is the same for
// noop.wasm, the floor the SDK and the ABI layer set. It runs the benchmark
// builds (cors-bench.wasm, noop-bench.wasm), which differ from the product
// builds only by those exports.
//
// An op is one round: 8 streams through each plugin, so ns/op, B/op and
// allocs/op (the host's, wall time) are per 16 streams.
//
//	make bench    # or: go test -run '^$' -bench BenchmarkStream ./e2e/
func BenchmarkStream(b *testing.B) {
	corsPlugin, noopPlugin := benchPlugins(b)
	for _, k := range benchKinds {
		b.Run("req="+k.name, func(b *testing.B) {
			cors, noop := newVM(b, corsPlugin, benchConfig), newVM(b, noopPlugin, benchConfig)
			checkBenchKind(b, cors, k)
			interleave(b, cors, noop, k).report(b, "cors")
		})
	}
}

// BenchmarkFloor is BenchmarkStream for the floor plugin (filter/floor):
// the host calls of an allowed preflight (a local reply read back) for an
// OPTIONS request, and of an allowed actual request (the response read,
// four headers written) for any other, without the filter's Go work. It
// reports floor/noop, what those calls alone cost above the no-op plugin:
// the part of cors/noop that no work in the filter's Go code can remove.
// The preflight and actual-allowed kinds make exactly the filter's calls;
// for the other kinds the floor makes the actual-allowed calls, more than
// the filter makes for them.
//
//	make bench    # or: make build/floor-bench.wasm, then go test -run '^$' -bench BenchmarkFloor ./e2e/
func BenchmarkFloor(b *testing.B) {
	floorPlugin, noopPlugin := floorPlugins(b)
	for _, k := range benchKinds {
		b.Run("req="+k.name, func(b *testing.B) {
			floor, noop := newVM(b, floorPlugin, benchConfig), newVM(b, noopPlugin, benchConfig)
			interleave(b, floor, noop, k).report(b, "floor")
		})
	}
}

// interleaved is what interleave measured of two VMs: a and z.
type interleaved struct {
	aCPU, zCPU       time.Duration
	aAllocs, zAllocs uint64 // guest heap allocations during the measured rounds
	streams          int    // per VM
}

// report reports the measurements per stream, the VM measured against
// noop.wasm named a: a-ns/stream, noop-ns/stream, a/noop, and the guest heap
// allocations of each, guest-allocs/stream and noop-guest-allocs/stream.
func (r interleaved) report(b *testing.B, a string) {
	n := float64(r.streams)
	b.ReportMetric(float64(r.aCPU.Nanoseconds())/n, a+"-ns/stream")
	b.ReportMetric(float64(r.zCPU.Nanoseconds())/n, "noop-ns/stream")
	b.ReportMetric(float64(r.aCPU)/float64(r.zCPU), a+"/noop")
	b.ReportMetric(float64(r.aAllocs)/n, "guest-allocs/stream")
	b.ReportMetric(float64(r.zAllocs)/n, "noop-guest-allocs/stream")
}

// interleave runs kind k through a and z in batches of benchBatch streams,
// swapping the order every round, for b.N rounds, and times each batch
// with the thread's CPU time, after a warm-up; both VMs must still be
// healthy at the end.
func interleave(b *testing.B, a, z *host.VM, k benchKind) interleaved {
	up := func(host.Request) host.Response { return k.up }
	// Thread CPU time is only meaningful if this goroutine stays on one
	// thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	batch := func(vm *host.VM) time.Duration {
		start := threadCPUTime()
		for range benchBatch {
			if _, err := vm.RoundTrip(k.req, up); err != nil {
				b.Fatal(err)
			}
		}
		return threadCPUTime() - start
	}
	// Warm-up: both guest heaps grow to their working size, and the
	// host's caches fill.
	for range 200 {
		batch(a)
		batch(z)
	}
	a.ResetLogs()
	z.ResetLogs()
	aSelf, zSelf := mallocsCost(b, a), mallocsCost(b, z)
	aBefore, zBefore := guestMallocs(b, a), guestMallocs(b, z)

	var r interleaved
	rounds := 0
	b.ReportAllocs()
	for b.Loop() {
		if rounds%2 == 0 {
			r.aCPU += batch(a)
			r.zCPU += batch(z)
		} else {
			r.zCPU += batch(z)
			r.aCPU += batch(a)
		}
		if rounds++; rounds%1000 == 0 {
			a.ResetLogs() // host-side retention only
			z.ResetLogs()
		}
	}
	r.aAllocs = guestMallocs(b, a) - aBefore - aSelf
	r.zAllocs = guestMallocs(b, z) - zBefore - zSelf
	checkAlive(b, a)
	checkAlive(b, z)
	r.streams = rounds * benchBatch
	return r
}

// mallocsCost returns how many allocations one read of the guest's
// allocation counter adds to the count (0, as TestBenchCounters_costNothing
// checks; subtracted all the same).
func mallocsCost(tb testing.TB, vm *host.VM) uint64 {
	first := guestMallocs(tb, vm)
	return guestMallocs(tb, vm) - first
}

// checkAlive is checkHealthy for benchmarks: the VM is alive, made no
// restricted call and never called poll_oneoff.
func checkAlive(tb testing.TB, vm *host.VM) {
	tb.Helper()
	if err := vm.Err(); err != nil {
		tb.Fatalf("VM died: %v", err)
	}
	if v := vm.Violations(); len(v) != 0 {
		tb.Fatalf("restricted-callback violations: %v", v)
	}
	if n := vm.PollOneoffCalls(); n != 0 {
		tb.Fatalf("poll_oneoff calls: %d; want 0", n)
	}
}
