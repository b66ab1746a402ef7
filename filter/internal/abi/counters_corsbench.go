//go:build wasip1 && corsbench

package abi

import (
	"runtime"
	"runtime/metrics"
)

// Test-only exports, compiled only with -tags corsbench (build/cors-bench.wasm
// and build/noop-bench.wasm, for e2e's benchmarks and the Envoy proof test).
// The product build/cors.wasm has none of them: Envoy never calls them, and
// e2e checks that the product exports none of them. The file name lacks the
// _wasip1 suffix on purpose (the build line says wasip1): drift_test.go
// compares every *_wasip1.go export with the SDK's callbacks, and these are
// not proxy-wasm callbacks.
//
// The counters neither allocate, make a host call, nor start a timer or a
// goroutine, so calling them changes neither the counts they read nor the
// runtime paths the proof test watches (e2e checks that reading them
// allocates nothing).

// memStats is reused by every call: runtime.ReadMemStats fills it in place.
var memStats runtime.MemStats

// corsBenchMallocs returns the guest runtime's cumulative count of heap
// allocations (runtime.MemStats.Mallocs, tiny allocations included).
//
// It is exact, unlike runtime/metrics' /gc/heap/allocs:objects, which is
// cheaper but counts a size class's allocations only when its cached span
// is handed back (mcache.refill, mcache.releaseAll): a read after a few
// streams can miss up to a span's worth of objects per size class.
// ReadMemStats stops the world and flushes the caches first, so each call
// costs a stop-the-world and a cache refill afterwards: call it around
// measurements, not inside them.
//
//go:wasmexport cors_bench_mallocs
func corsBenchMallocs() uint64 {
	runtime.ReadMemStats(&memStats)
	return memStats.Mallocs
}

// benchMetrics are the runtime/metrics samples cors_bench_metric reads, by
// index, without stopping the world, in place.
var benchMetrics = []metrics.Sample{
	{Name: "/gc/cycles/total:gc-cycles"},                   // 0
	{Name: "/gc/heap/live:bytes"},                          // 1: marked live by the last GC
	{Name: "/gc/heap/goal:bytes"},                          // 2
	{Name: "/memory/classes/heap/objects:bytes"},           // 3: live and not yet swept
	{Name: "/memory/classes/heap/free:bytes"},              // 4: free, not released
	{Name: "/memory/classes/heap/released:bytes"},          // 5: free and released (scavenged)
	{Name: "/memory/classes/total:bytes"},                  // 6: all the runtime mapped
	{Name: "/cpu/classes/scavenge/background:cpu-seconds"}, // 7: in ns; updated at GC ends
	{Name: "/cpu/classes/scavenge/assist:cpu-seconds"},     // 8: in ns; updated at GC ends
	{Name: "/sched/goroutines:goroutines"},                 // 9
	{Name: "/sched/goroutines/runnable:goroutines"},        // 10
}

// corsBenchMetric returns the runtime metric benchMetrics[i] as an integer
// (cpu-seconds in nanoseconds), or ^0 for an unknown index.
//
//go:wasmexport cors_bench_metric
func corsBenchMetric(i uint32) uint64 {
	if int(i) >= len(benchMetrics) {
		return ^uint64(0)
	}
	s := benchMetrics[i : i+1]
	metrics.Read(s)
	switch v := s[0].Value; v.Kind() {
	case metrics.KindUint64:
		return v.Uint64()
	case metrics.KindFloat64:
		return uint64(v.Float64() * 1e9)
	}
	return ^uint64(0)
}

// corsBenchGosched enters the Go scheduler once, as the plugin itself never
// does (it has one goroutine, which never blocks). It exists for e2e's
// control experiment only: it lets the runtime's background goroutines run,
// among them the scavenger, which then arms a timer, and shows what that
// does to the VM under an older Envoy.
//
//go:wasmexport cors_bench_gosched
func corsBenchGosched() { runtime.Gosched() }

// garbage keeps the last buffer cors_bench_garbage allocated.
var garbage []byte

// corsBenchGarbage allocates n bytes and drops the previous buffer. The
// plugin allocates nothing per stream, so the control experiment drives the
// garbage collector through this export.
//
//go:wasmexport cors_bench_garbage
func corsBenchGarbage(n uint32) { garbage = make([]byte, n) }
