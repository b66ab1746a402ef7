package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsfilter/corsfilter/host"
)

// These tests run origin sources, candidate policies and the denied-origins
// report on the real cors.wasm, on several VMs of one plugin (Envoy's
// workers), with a scripted registry and a fake clock.

const workers = 4

// sourceConfig fetches "partners" every 60 s from the registry cluster.
const sourceConfig = `{
  "origin_sources": [{"name": "partners", "cluster": "registry", "authority": "registry.internal",
                      "path": "/origins", "refresh_seconds": 60, "timeout_ms": 500, "max_origins": 100}],
  "allowed_origins": ["https://app.example.com"],
  "allowed_origin_sets": ["partners"]
}`

// registry is a scripted origin registry.
type registry struct {
	mu      sync.Mutex
	origins []string
	etag    string
	mode    string // "" answers; "down" 503; "reset"; "slow" past the timeout; "garbage"; "raw" answers body
	body    string
}

func (r *registry) set(f func(r *registry)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

func (r *registry) serve(c host.HTTPCall) host.HTTPAnswer {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.mode {
	case "down":
		return host.HTTPAnswer{Status: 503, Body: []byte("no healthy upstream")}
	case "reset":
		return host.HTTPAnswer{Reset: true}
	case "slow":
		return host.HTTPAnswer{Delay: 2 * time.Second, Body: []byte(`{"origins":[]}`)}
	case "garbage":
		return host.HTTPAnswer{Body: []byte("<html>502 Bad Gateway</html>"), Headers: h("etag", `"garbage"`)}
	case "raw":
		return host.HTTPAnswer{Body: []byte(r.body)}
	}
	if r.etag != "" && c.Header("if-none-match") == r.etag {
		return host.HTTPAnswer{Status: 304, Headers: h("etag", r.etag)}
	}
	body, _ := json.Marshal(map[string][]string{"origins": r.origins})
	return host.HTTPAnswer{Headers: h("content-type", "application/json", "etag", r.etag), Body: body, Delay: 20 * time.Millisecond}
}

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fleet starts n VMs of cors.wasm (or wasm) configured with config, on a
// fake clock, with reg as the registry cluster.
func fleet(t *testing.T, wasm []byte, config string, reg *registry, n int) (*host.Plugin, []*host.VM) {
	t.Helper()
	requireWasm(t)
	if wasm == nil {
		wasm = corsWasm
	}
	ctx := context.Background()
	p, err := host.Compile(ctx, wasm, host.WithFakeClock(epoch), host.WithUpstream("registry", reg.serve))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(ctx) })
	var vms []*host.VM
	for range n {
		vm, err := p.NewVM(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.Configure([]byte(config)); err != nil {
			t.Fatalf("Configure: %v; %q", err, vm.Logs(host.LogCritical))
		}
		vms = append(vms, vm)
	}
	return p, vms
}

func advance(t *testing.T, p *host.Plugin, d time.Duration) {
	t.Helper()
	if err := p.Advance(d); err != nil {
		t.Fatal(err)
	}
}

// allows reports whether vm answers an actual request from origin with
// Access-Control-Allow-Origin.
func allows(t *testing.T, vm *host.VM, origin string) bool {
	t.Helper()
	res, err := vm.RoundTrip(actual("GET", origin), nil)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := res.Header("access-control-allow-origin")
	return ok && v == origin
}

func wantAllowed(t *testing.T, vms []*host.VM, origin string, want bool) {
	t.Helper()
	for i, vm := range vms {
		if got := allows(t, vm, origin); got != want {
			t.Errorf("VM %d, origin %s: allowed %v; want %v", i, origin, got, want)
		}
	}
}

// sum adds a metric over the VMs; gauges must read alike on every VM.
func sum(vms []*host.VM, name string) uint64 {
	var n uint64
	for _, vm := range vms {
		v, _ := vm.Metric(name)
		n += v
	}
	return n
}

func wantGauge(t *testing.T, vms []*host.VM, name string, want uint64) {
	t.Helper()
	for i, vm := range vms {
		if v, _ := vm.Metric(name); v != want {
			t.Errorf("VM %d: %s = %d; want %d", i, name, v, want)
		}
	}
}

func Test_that_a_registry_update_reaches_every_VM(t *testing.T) {
	reg := &registry{origins: []string{"https://a.partner.example", "https://b.partner.example"}, etag: `"v1"`}
	p, vms := fleet(t, nil, sourceConfig, reg, workers)

	advance(t, p, 2*time.Second)
	if calls := p.HTTPCalls(); len(calls) != 1 {
		t.Fatalf("%d registry calls from %d VMs; want 1 (one VM fetches)", len(calls), workers)
	} else if c := calls[0]; c.Cluster != "registry" || c.Header(":authority") != "registry.internal" || c.Header(":path") != "/origins" ||
		c.Header(":method") != "GET" || c.Timeout != 500*time.Millisecond || c.Header("if-none-match") != "" {
		t.Errorf("first call: %+v", c)
	}
	wantAllowed(t, vms, "https://a.partner.example", true)
	wantAllowed(t, vms, "https://app.example.com", true)
	wantAllowed(t, vms, "https://c.partner.example", false)
	wantGauge(t, vms, "cors.origin_source.partners.version", 1)
	wantGauge(t, vms, "cors.origin_source.partners.origins", 2)
	if n := sum(vms, "cors.origin_source.partners.fetch_success"); n != 1 {
		t.Errorf("fetch_success = %d; want 1", n)
	}

	// The registry drops a and adds c: one more fetch, 60 s later, with
	// the ETag, reaches every VM.
	reg.set(func(r *registry) {
		r.origins, r.etag = []string{"https://b.partner.example", "https://c.partner.example"}, `"v2"`
	})
	advance(t, p, 30*time.Second)
	wantAllowed(t, vms, "https://a.partner.example", true) // not due yet
	advance(t, p, 31*time.Second)
	calls := p.HTTPCalls()
	if len(calls) != 2 || calls[1].Header("if-none-match") != `"v1"` {
		t.Fatalf("calls after the refresh: %d, If-None-Match %q; want 2, \"v1\"", len(calls), calls[len(calls)-1].Header("if-none-match"))
	}
	wantAllowed(t, vms, "https://a.partner.example", false)
	wantAllowed(t, vms, "https://c.partner.example", true)
	wantGauge(t, vms, "cors.origin_source.partners.version", 2)

	// Unchanged: 304, the version stays, the age restarts. (The fetch
	// went out on the tick at 62 s and its answer came at 62.02 s.)
	advance(t, p, 45*time.Second)
	wantGauge(t, vms, "cors.origin_source.partners.age_seconds", 45)
	advance(t, p, 16*time.Second)
	if calls := p.HTTPCalls(); len(calls) != 3 || calls[2].Header("if-none-match") != `"v2"` {
		t.Fatalf("third call: %d calls", len(calls))
	}
	wantGauge(t, vms, "cors.origin_source.partners.version", 2)
	wantGauge(t, vms, "cors.origin_source.partners.age_seconds", 1) // the 304 came at 123 s, this tick at 124 s
	if n := sum(vms, "cors.origin_source.partners.fetch_success"); n != 3 {
		t.Errorf("fetch_success = %d; want 3", n)
	}
	for _, vm := range vms {
		checkHealthy(t, vm)
	}
}

func Test_that_an_outage_and_a_garbage_answer_keep_the_last_good_set(t *testing.T) {
	reg := &registry{origins: []string{"https://a.partner.example"}, etag: `"v1"`}
	p, vms := fleet(t, nil, sourceConfig, reg, workers)
	advance(t, p, 2*time.Second)
	wantAllowed(t, vms, "https://a.partner.example", true)

	for _, tc := range []struct{ mode, reason string }{
		{"down", "status"}, {"reset", "reset"}, {"slow", "timeout"}, {"garbage", "body"},
	} {
		reg.set(func(r *registry) { r.mode = tc.mode })
		before := sum(vms, "cors.origin_source.partners.fetch_failure."+tc.reason)
		advance(t, p, 61*time.Second)
		if n := sum(vms, "cors.origin_source.partners.fetch_failure."+tc.reason) - before; n < 1 {
			t.Errorf("%s: fetch_failure.%s did not count", tc.mode, tc.reason)
		}
		wantAllowed(t, vms, "https://a.partner.example", true)
		wantAllowed(t, vms, "https://z.partner.example", false)
		wantGauge(t, vms, "cors.origin_source.partners.version", 1)
	}
	// A hostile answer nested 15,000 deep (as deep as max_origins lets a body
	// be here; millions with a larger max_origins) is refused before any recursive
	// parsing: unchecked, it overflowed the fetching VM's stack and killed
	// it, then the next VM to take the lease.
	reg.set(func(r *registry) {
		r.mode, r.body = "raw", `{"origins":[`+strings.Repeat("[", 15_000)+strings.Repeat("]", 15_000)+`]}`
	})
	before := sum(vms, "cors.origin_source.partners.fetch_failure.body")
	advance(t, p, 61*time.Second)
	if n := sum(vms, "cors.origin_source.partners.fetch_failure.body") - before; n < 1 {
		t.Errorf("a deeply nested answer: fetch_failure.body did not count")
	}
	for _, vm := range vms {
		checkHealthy(t, vm)
	}
	wantAllowed(t, vms, "https://a.partner.example", true)

	// A failed fetch is retried within 10 s, not a refresh later.
	reg.set(func(r *registry) { r.mode, r.origins, r.etag = "", []string{"https://z.partner.example"}, `"v2"` })
	advance(t, p, 11*time.Second)
	wantAllowed(t, vms, "https://z.partner.example", true)
	wantAllowed(t, vms, "https://a.partner.example", false)

	// Invalid entries are dropped, counted and logged; the rest is used.
	reg.set(func(r *registry) {
		r.mode, r.body = "raw", `{"origins":["https://ok.partner.example","*","null","https://UPPER.example","https://*.github.io",7]}`
	})
	advance(t, p, 61*time.Second)
	wantAllowed(t, vms, "https://ok.partner.example", true)
	wantGauge(t, vms, "cors.origin_source.partners.origins", 1)
	if n := sum(vms, "cors.origin_source.partners.invalid_entries"); n != 5 {
		t.Errorf("invalid_entries = %d; want 5", n)
	}
	logged := false
	for _, vm := range vms {
		for _, l := range vm.Logs(host.LogWarn) {
			logged = logged || strings.Contains(l, "dropped 5 invalid entries") && strings.Contains(l, `"https://UPPER.example"`)
		}
		checkHealthy(t, vm)
	}
	if !logged {
		t.Error("no warning names the dropped entries")
	}
}

func Test_that_a_first_fetch_that_fails_denies(t *testing.T) {
	reg := &registry{mode: "down", origins: []string{"https://a.partner.example"}}
	p, vms := fleet(t, nil, sourceConfig, reg, workers)
	wantAllowed(t, vms, "https://a.partner.example", false) // before any fetch
	advance(t, p, 5*time.Second)
	wantAllowed(t, vms, "https://a.partner.example", false)
	wantAllowed(t, vms, "https://app.example.com", true) // static origins still hold
	if n := sum(vms, "cors.origin_source.partners.fetch_failure.status"); n != 1 {
		t.Errorf("fetch_failure.status = %d; want 1", n)
	}
	warned := false
	for _, vm := range vms {
		for _, l := range vm.Logs(host.LogWarn) {
			warned = warned || strings.Contains(l, "no set was ever fetched: the set allows no origin")
		}
	}
	if !warned {
		t.Error("no warning says the set allows no origin")
	}
	reg.set(func(r *registry) { r.mode = "" })
	advance(t, p, 10*time.Second)
	wantAllowed(t, vms, "https://a.partner.example", true)
}

// Test_that_the_fetcher_moves_when_its_VM_is_gone: a VM that dies while
// it holds the fetch lease (its call never answered) delays the next fetch
// by the rest of the lease only: another VM takes it over.
func Test_that_the_fetcher_moves_when_its_VM_is_gone(t *testing.T) {
	reg := &registry{origins: []string{"https://a.partner.example"}, etag: `"v1"`}
	p, vms := fleet(t, nil, sourceConfig, reg, 2)
	advance(t, p, 2*time.Second)
	reg.set(func(r *registry) { r.mode = "slow" })
	advance(t, p, 60*time.Second+100*time.Millisecond) // VM 0 sent the refresh at 62 s; it waits
	if len(p.HTTPCalls()) != 2 || p.PendingHTTPCalls() != 1 {
		t.Fatalf("calls %d, pending %d; want 2, 1", len(p.HTTPCalls()), p.PendingHTTPCalls())
	}
	vms[0].Close(context.Background())
	reg.set(func(r *registry) { r.mode, r.origins, r.etag = "", []string{"https://b.partner.example"}, `"v2"` })
	advance(t, p, 1*time.Second) // 63 s: VM 0's lease runs to 63.5 s
	if len(p.HTTPCalls()) != 2 {
		t.Fatalf("VM 1 fetched while VM 0's lease held")
	}
	advance(t, p, 1*time.Second) // 64 s: the lease has run out
	if len(p.HTTPCalls()) != 3 {
		t.Fatalf("calls %d; want 3: VM 1 takes the fetch over", len(p.HTTPCalls()))
	}
	wantAllowed(t, vms[1:], "https://b.partner.example", true)
	checkHealthy(t, vms[1])
}

const candidateConfig = `{"rules":[{"name":"api",
  "allowed_origins":["https://old.example","https://both.example"],
  "candidate":{"allowed_origins":["https://new.example","https://both.example"]}}]}`

func Test_that_candidate_divergences_are_counted_by_direction(t *testing.T) {
	_, vms := fleet(t, nil, candidateConfig, &registry{}, 2)
	for i, vm := range vms {
		for range 3 {
			if !allows(t, vm, "https://old.example") || allows(t, vm, "https://new.example") || !allows(t, vm, "https://both.example") {
				t.Fatalf("VM %d: the candidate changed an answer in the shadow", i)
			}
		}
		allows(t, vm, "https://new.example")
		allows(t, vm, "https://none.example")
	}
	if n := sum(vms, "cors.api.candidate_would_deny"); n != 6 {
		t.Errorf("candidate_would_deny = %d; want 6", n)
	}
	if n := sum(vms, "cors.api.candidate_would_allow"); n != 8 {
		t.Errorf("candidate_would_allow = %d; want 8", n)
	}
	// The first divergence of each direction is logged at debug level;
	// the next 99 are not.
	for i, vm := range vms {
		var lines []string
		for _, l := range vm.Logs(host.LogDebug) {
			if strings.Contains(l, "candidate_would_") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 2 || !strings.Contains(lines[0], `candidate_would_deny on actual from origin "https://old.example" (the rule decided: actual_allowed`) {
			t.Errorf("VM %d: divergence lines %q", i, lines)
		}
	}
}

func Test_that_a_rollout_percentage_is_respected(t *testing.T) {
	cfg := `{"rules":[{"name":"api","allowed_origins":[],
	  "candidate":{"allowed_origins":["https://*.tenant.example"]},"candidate_rollout_percent":10}]}`
	_, vms := fleet(t, nil, cfg, &registry{}, 2)
	allowed := 0
	for i := range 10_000 {
		origin := "https://t" + strconv.Itoa(i) + ".tenant.example"
		a := allows(t, vms[0], origin)
		if a {
			allowed++
		}
		// One origin always sees one policy, on every worker.
		if i%20 == 0 && allows(t, vms[1], origin) != a {
			t.Fatalf("%s: the VMs disagree", origin)
		}
	}
	// 10% of 10,000 is 1,000; the binomial standard deviation is 30:
	// ±150 is five of them.
	if allowed < 850 || allowed > 1150 {
		t.Errorf("10%% rollout: %d of 10,000 origins see the candidate; want 1,000 ± 150", allowed)
	}
	t.Logf("10%% rollout: %d of 10,000 origins see the candidate", allowed)
}

func Test_that_the_denied_origins_report_names_the_heavy_hitters(t *testing.T) {
	cfg := `{"allowed_origins":["https://app.example.com"],"report_interval_seconds":60,"report_top_origins":5}`
	p, vms := fleet(t, nil, cfg, &registry{}, 2)
	vm := vms[0]
	long := "https://" + strings.Repeat("x", 200) + ".example"
	for i := range 3000 {
		allows(t, vm, "https://noise"+strconv.Itoa(i)+".example")
		if i%3 == 0 {
			allows(t, vm, "https://scanner.example")
		}
		if i%10 == 0 {
			allows(t, vm, "https://forgotten-partner.example")
		}
		if i%15 == 0 {
			allows(t, vm, long)
		}
	}
	advance(t, p, 61*time.Second)
	var report string
	for _, l := range vm.Logs(host.LogInfo) {
		if strings.Contains(l, "denied") && strings.Contains(l, "top origins") {
			report = l
		}
	}
	t.Log(report)
	// With 20 slots, any origin denied more than 4,500/20 = 225 times is
	// in the sketch, and no other counts that much.
	i, j := strings.Index(report, `"https://scanner.example" 1000`), strings.Index(report, `"https://forgotten-partner.example" 300`)
	if !strings.HasPrefix(report, `cors: rule "default" denied 4500 requests in the last 60 s; top origins: "https://scanner.example" 1000, "https://forgotten-partner.example" 300`) || i < 0 || j < i {
		t.Errorf("report %q", report)
	}
	if strings.Contains(report, strings.Repeat("x", 100)) {
		t.Error("the report quotes a long origin whole")
	}
	for _, other := range vms[1].Logs(host.LogInfo) {
		if strings.Contains(other, "top origins") {
			t.Errorf("a VM that denied nothing reported: %q", other)
		}
	}
	for name := range vm.Metrics() {
		if strings.Contains(name, "example") {
			t.Errorf("a metric names an origin: %s", name)
		}
	}
	// The next report counts from zero.
	vm.ResetLogs()
	allows(t, vm, "https://late.example")
	advance(t, p, 60*time.Second)
	if logs := strings.Join(vm.Logs(host.LogInfo), "\n"); !strings.Contains(logs, `denied 1 requests in the last 60 s; top origins: "https://late.example" 1`) {
		t.Errorf("second report: %q", logs)
	}
}

// Test_that_sets_and_candidates_allocate_nothing_per_stream runs streams
// decided by a fetched origin set and a candidate on the benchmark build,
// and reads the guest's own allocation counter.
func Test_that_sets_and_candidates_allocate_nothing_per_stream(t *testing.T) {
	requireWasm(t)
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(filepath.Join(root, "build", "cors-bench.wasm"))
	if err != nil {
		if os.Getenv("CORS_REQUIRE_BENCH_WASM") == "1" {
			t.Fatal(err)
		}
		t.Skip("build/cors-bench.wasm is missing: run `make build/cors-bench.wasm`")
	}
	cfg := `{"origin_sources":[{"name":"partners","cluster":"registry","authority":"r","path":"/o","max_origins":100}],
	  "report_interval_seconds":60,
	  "rules":[{"name":"api","allowed_origins":["https://app.example.com"],"allowed_origin_sets":["partners"],
	            "candidate":{"allowed_origins":["https://app.example.com","https://*.tenant.example"],"allowed_origin_sets":["partners"]},"candidate_rollout_percent":50}]}`
	reg := &registry{origins: []string{"https://a.partner.example", "https://*.team.example"}, etag: `"v1"`}
	p, vms := fleet(t, wasm, cfg, reg, 2)
	advance(t, p, 2*time.Second)
	vm := vms[1] // not necessarily the fetcher: it installed the set from shared data
	origins := []string{"https://a.partner.example", "https://x.team.example", "https://t1.tenant.example", "https://t2.tenant.example", "https://evil.example"}
	round := func() {
		for _, o := range origins {
			if _, err := vm.RoundTrip(actual("GET", o), nil); err != nil {
				t.Fatal(err)
			}
			if _, err := vm.RoundTrip(preflight(o, "PUT", "x-token"), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	for range 300 {
		round() // warm up: the stream table, the scratch storage, the sketches
	}
	if !allows(t, vm, "https://a.partner.example") {
		t.Fatal("the set was not installed")
	}
	before := guestMallocs(t, vm)
	for range 200 {
		round()
	}
	if n := guestMallocs(t, vm) - before; n != 0 {
		t.Errorf("%d guest allocations over 2,000 streams; want 0", n)
	}
	checkHealthy(t, vm)
}
