package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/corsfilter/corsfilter/host"
)

// The benchmark builds (make build/cors-bench.wasm build/noop-bench.wasm):
// the same plugins built with -tags corsbench, which adds the test-only
// exports of filter/internal/abi/counters_corsbench.go.
const (
	exportMallocs = "cors_bench_mallocs" // () -> i64: the guest runtime's exact cumulative heap allocation count
	exportMetric  = "cors_bench_metric"  // (i32) -> i64: one runtime/metrics value, by index
	exportGosched = "cors_bench_gosched" // (): runtime.Gosched, for the control experiment only
	exportGarbage = "cors_bench_garbage" // (n): allocate n bytes, for the control experiment only
)

// Indexes of cors_bench_metric (benchMetrics in counters_corsbench.go).
const (
	metricGCCycles      = 0
	metricHeapLive      = 1
	metricHeapGoal      = 2
	metricHeapObjects   = 3
	metricHeapFree      = 4
	metricHeapReleased  = 5
	metricMappedTotal   = 6
	metricScavengeBgNs  = 7
	metricScavengeAsNs  = 8
	metricGoroutines    = 9
	metricRunnable      = 10
	numMetricsInExports = 11
)

var (
	benchDir                         string // where the benchmark builds are
	benchOnce                        sync.Once
	corsBenchPlugin, noopBenchPlugin *host.Plugin
	benchMissing                     string
	// The floor plugin (filter/floor), for BenchmarkFloor only: make bench
	// builds it, make test does not.
	floorBenchPlugin *host.Plugin
	floorMissing     string
)

// loadBenchPlugins compiles build/cors-bench.wasm and build/noop-bench.wasm
// once. It refuses a benchmark build older than a source file, as make
// would rebuild it: its numbers would describe old code.
func loadBenchPlugins() {
	root, err := repoRoot()
	if err != nil {
		benchMissing = err.Error()
		return
	}
	newest, newestPath, err := newestSource(root)
	if err != nil {
		benchMissing = err.Error()
		return
	}
	dir := filepath.Join(root, "build")
	if d := os.Getenv("CORS_BUILD_DIR"); d != "" {
		dir = d
	}
	benchDir = dir
	load := func(name string) (*host.Plugin, string) {
		path := filepath.Join(dir, name)
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Sprintf("build/%s is missing: run `make build/%s` (make bench and make soak build it)", name, name)
		}
		if st.ModTime().Before(newest) {
			return nil, fmt.Sprintf("build/%s is older than %s: run `make build/%s`", name, newestPath, name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err.Error()
		}
		// Envoy's default log level, info: the debug line of a denial
		// costs the guest its call, and the host nothing more.
		p, err := host.Compile(context.Background(), b, host.WithLogLevel(host.LogInfo))
		if err != nil {
			return nil, fmt.Sprintf("build/%s does not load in the Envoy-emulating host: %v", name, err)
		}
		return p, ""
	}
	var corsMissing, noopMissing string
	corsBenchPlugin, corsMissing = load("cors-bench.wasm")
	noopBenchPlugin, noopMissing = load("noop-bench.wasm")
	floorBenchPlugin, floorMissing = load("floor-bench.wasm")
	if corsBenchPlugin == nil || noopBenchPlugin == nil {
		corsBenchPlugin, noopBenchPlugin = nil, nil
		benchMissing = strings.TrimPrefix(corsMissing+"; "+noopMissing, "; ")
		benchMissing = strings.TrimSuffix(benchMissing, "; ")
	}
}

// newestSource returns the modification time of the newest Go source file,
// go.mod or go.sum under root (the Makefile's GOFILES, but for the demo's
// page), and its path relative to root.
func newestSource(root string) (time.Time, string, error) {
	var newest time.Time
	var newestPath string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "build" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") && name != "go.mod" && name != "go.sum" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(newest) {
			newest, newestPath = info.ModTime(), path
		}
		return nil
	})
	rel, _ := filepath.Rel(root, newestPath)
	return newest, rel, err
}

// benchPlugins returns the benchmark builds, or skips (fails under
// CORS_REQUIRE_BENCH_WASM=1, as make bench and make soak set) when they are
// missing or stale.
func benchPlugins(tb testing.TB) (cors, noop *host.Plugin) {
	tb.Helper()
	requireWasm(tb)
	benchOnce.Do(loadBenchPlugins)
	if corsBenchPlugin == nil {
		if os.Getenv("CORS_REQUIRE_BENCH_WASM") == "1" {
			tb.Fatal(benchMissing)
		}
		tb.Skip(benchMissing)
	}
	return corsBenchPlugin, noopBenchPlugin
}

// floorPlugins returns the floor and the no-op benchmark builds, or skips.
func floorPlugins(tb testing.TB) (floor, noop *host.Plugin) {
	tb.Helper()
	_, noop = benchPlugins(tb)
	if floorBenchPlugin == nil {
		tb.Skip(floorMissing)
	}
	return floorBenchPlugin, noop
}

// benchWasmPath returns the path of a benchmark build, which benchPlugins
// has checked.
func benchWasmPath(tb testing.TB, name string) string {
	benchPlugins(tb)
	return filepath.Join(benchDir, name)
}

// haveBenchPlugins reports whether the benchmark builds are there and
// fresh, for tests that only log more with them.
func haveBenchPlugins() (string, bool) {
	benchOnce.Do(loadBenchPlugins)
	return benchMissing, corsBenchPlugin != nil
}

// guestMallocs returns the guest runtime's cumulative heap allocation count.
func guestMallocs(tb testing.TB, vm *host.VM) uint64 {
	tb.Helper()
	n, err := vm.CallExport(exportMallocs)
	if err != nil {
		tb.Fatalf("%s: %v", exportMallocs, err)
	}
	return n
}

// guestMetric returns one runtime metric of a benchmark build's VM.
func guestMetric(tb testing.TB, vm *host.VM, i uint64) uint64 {
	tb.Helper()
	n, err := vm.CallExport(exportMetric, i)
	if err != nil {
		tb.Fatalf("%s(%d): %v", exportMetric, i, err)
	}
	return n
}

// TestBenchExports_onlyInBenchBuilds checks that the product cors.wasm
// exports nothing of the benchmark builds, and that the benchmark builds
// export exactly the product's exports plus the counters.
func TestBenchExports_onlyInBenchBuilds(t *testing.T) {
	exports := func(name string) map[string]bool {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "build", name))
		if err != nil {
			t.Skipf("build/%s: %v", name, err)
		}
		ctx := context.Background()
		// The interpreter compiles in milliseconds; only the export list
		// is read.
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
		defer r.Close(ctx)
		m, err := r.CompileModule(ctx, b)
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		out := map[string]bool{}
		for n := range m.ExportedFunctions() {
			out[n] = true
		}
		return out
	}
	requireWasm(t)
	for _, product := range []string{"cors.wasm", "noop.wasm"} {
		for n := range exports(product) {
			if strings.HasPrefix(n, "cors_bench_") {
				t.Errorf("build/%s exports %s: the test-only exports must stay behind -tags corsbench", product, n)
			}
		}
	}
	benchPlugins(t)
	for _, pair := range [][2]string{{"cors.wasm", "cors-bench.wasm"}, {"noop.wasm", "noop-bench.wasm"}} {
		product, bench := exports(pair[0]), exports(pair[1])
		for n := range product {
			if !bench[n] {
				t.Errorf("build/%s lacks %s, which build/%s exports", pair[1], n, pair[0])
			}
		}
		for n := range bench {
			if !product[n] && n != exportMallocs && n != exportMetric && n != exportGosched && n != exportGarbage {
				t.Errorf("build/%s exports %s, which is neither the product's nor a known test-only export", pair[1], n)
			}
		}
	}
}

// TestBenchCounters_costNothing checks that reading the counters does not
// itself allocate in the guest, so that a delta around a batch is the
// batch's own; and that every metric index answers.
func TestBenchCounters_costNothing(t *testing.T) {
	cors, noop := benchPlugins(t)
	for _, p := range []*host.Plugin{cors, noop} {
		vm := newVM(t, p, benchConfig)
		for i := range 100 { // some garbage, and a GC or two, first
			k := benchKinds[i%len(benchKinds)]
			if _, err := vm.RoundTrip(k.req, func(host.Request) host.Response { return k.up }); err != nil {
				t.Fatal(err)
			}
		}
		for i := range uint64(numMetricsInExports) {
			guestMetric(t, vm, i) // the first read of a histogram allocates its buckets
		}
		a := guestMallocs(t, vm)
		for i := range uint64(numMetricsInExports) {
			guestMetric(t, vm, i)
		}
		b := guestMallocs(t, vm)
		c := guestMallocs(t, vm)
		if b != a || c != b {
			t.Errorf("the counters allocate in the guest: mallocs %d, then %d after reading every metric, then %d", a, b, c)
		}
		if n, err := vm.CallExport(exportMetric, numMetricsInExports); err != nil || n != ^uint64(0) {
			t.Errorf("%s(%d) = %d, %v; want ^0 for an unknown index", exportMetric, numMetricsInExports, n, err)
		}
		checkHealthy(t, vm)
	}
	product := newVM(t, corsPlugin, benchConfig)
	if _, err := product.CallExport(exportMallocs); err == nil {
		t.Errorf("cors.wasm: %s answered; want an error, as the product has no such export", exportMallocs)
	}
	checkHealthy(t, product)
}
