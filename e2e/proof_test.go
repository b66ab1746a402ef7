package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsfilter/corsfilter/host"
)

// Envoy 1.33 to 1.38 (proxy-wasm-cpp-host before PR #533) answer
// poll_oneoff with ENOSYS, and forbid it inside proxy_on_memory_allocate.
// The Go runtime calls poll_oneoff (through netpoll) on every stop-the-world
// once its netpoller is initialised, which the first timer does, and throws
// on ENOSYS (golang/go#78513). The plugin arms no timer itself; the one the
// runtime could arm on its own is the background scavenger's, which sleeps
// on a timer after it has returned memory. The proof test drives what wakes
// the scavenger (heap growth, release, GC cycles) for at least 30 s under
// that host; the control test shows what a single entry into the scheduler
// would do.

// proofConfigs alternate at each reconfiguration. Both serve every kind of
// benchKinds as benchConfig does; the second adds a rule.
var proofConfigs = [2]string{
	benchConfig,
	strings.Replace(benchConfig, `"rules": [`, `"rules": [
    {"name": "public", "match": {"path_prefixes": ["/public/"]}, "allowed_origins": ["*"], "allow_credentials": false},`, 1),
}

// proofDuration is 30 s, or CORS_PROOF_SECONDS (make soak: 300).
func proofDuration(tb testing.TB) time.Duration {
	if s := os.Getenv("CORS_PROOF_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			tb.Fatalf("CORS_PROOF_SECONDS=%q: want a positive number of seconds", s)
		}
		return time.Duration(n) * time.Second
	}
	return 30 * time.Second
}

// proofVM is one configured plugin instance of the proof, and, when the
// benchmark builds are there, its twin from cors-bench.wasm, which runs the
// same streams and lets the test read the guest runtime's GC numbers.
type proofVM struct {
	name       string
	vm, twin   *host.VM
	memStart   uint32 // linear memory after Configure
	streams    int
	bigStreams int
}

// each runs fn on the VM and on its twin.
func (p *proofVM) each(fn func(vm *host.VM) error) error {
	for _, vm := range []*host.VM{p.vm, p.twin} {
		if vm == nil {
			continue
		}
		if err := fn(vm); err != nil {
			return err
		}
	}
	return nil
}

// check fails the test, saying what ran last, if a VM died, made a
// restricted call, or called poll_oneoff. The guest's whole stderr (a Go
// fatal error and its stacks) is logged: it names the runtime path that
// called poll_oneoff.
func (p *proofVM) check(t *testing.T, what string) {
	t.Helper()
	for _, vm := range []*host.VM{p.vm, p.twin} {
		if vm == nil {
			continue
		}
		label := p.name
		if vm == p.twin {
			label += " (cors-bench.wasm twin)"
		}
		err, v, polls := vm.Err(), vm.Violations(), vm.PollOneoffCalls()
		if err == nil && len(v) == 0 && polls == 0 {
			continue
		}
		var stderr strings.Builder
		for _, e := range vm.AllLogs() {
			if e.Level == host.LogError {
				stderr.WriteString(e.Message)
			}
		}
		t.Logf("%s: guest stderr:\n%s", label, stderr.String())
		t.Fatalf("%s, after %s (%d streams, %d with large headers, linear memory %.1f MiB): VM error %v; restricted-callback violations %v; poll_oneoff calls %d; want none",
			label, what, p.streams, p.bigStreams, mib(vm.MemorySize()), err, v, polls)
	}
}

func mib(n uint32) float64 { return float64(n) / (1 << 20) }

// proofWorkload generates the proof's requests.
type proofWorkload struct {
	rng  *rand.Rand
	pad  string // 256 KiB of header value characters
	sent uint64 // header bytes sent in large-header streams
}

func newProofWorkload() *proofWorkload {
	return &proofWorkload{rng: rand.New(rand.NewPCG(78513, 533)), pad: strings.Repeat("abcdefghijklmnopqrstuvwxyz0123-", 256<<10/31+1)[:256<<10]}
}

// size returns a header value size between 32 and 256 KiB.
func (w *proofWorkload) size() int { return 32<<10 + w.rng.IntN(224<<10) }

// bigRequest is an allowed actual request with 1 to 24 header values of
// 32 to 256 KiB each (1.8 MiB on average, at most 6 MiB: Envoy accepts up to
// 8 MiB of request headers with max_request_headers_kb). The policy reads
// none of them, but the header map the host hands over is one buffer, which
// the ABI layer serves from its 1 MiB arena, or, when larger (about two
// times in three), from the guest heap: the heap grows to hold it, then it
// is garbage.
func (w *proofWorkload) bigRequest() host.Request {
	r := actual("GET", app)
	for i := range 1 + w.rng.IntN(24) {
		r.Headers = append(r.Headers, host.Header{Name: "x-pad-" + strconv.Itoa(i), Value: w.pad[:w.size()]})
	}
	for _, kv := range r.Headers {
		w.sent += uint64(len(kv.Name) + len(kv.Value))
	}
	return r
}

// grow opens k streams with large headers on every VM at once (an Envoy
// worker with k requests in flight), then answers them all, each response
// with a large header too.
func (w *proofWorkload) grow(t *testing.T, vms []*proofVM, k int) {
	t.Helper()
	reqs := make([]host.Request, k)
	for i := range reqs {
		reqs[i] = w.bigRequest()
	}
	resp := &host.Response{Status: 200, Headers: h("content-type", "application/json", "x-up-pad", w.pad[:w.size()])}
	for _, p := range vms {
		err := p.each(func(vm *host.VM) error {
			streams := make([]*host.Stream, 0, k)
			for i, r := range reqs {
				s, err := vm.StartStream(r)
				if err != nil {
					return fmt.Errorf("start of large-header stream %d of %d: %w", i, k, err)
				}
				streams = append(streams, s)
			}
			for i, s := range streams {
				res, err := s.Finish(resp)
				if err != nil {
					return fmt.Errorf("end of large-header stream %d of %d: %w", i, k, err)
				}
				if acao, _ := res.Header("access-control-allow-origin"); res.Status != 200 || acao != app {
					return fmt.Errorf("large-header stream %d: got status %d, ACAO %q; want 200, %q", i, res.Status, acao, app)
				}
			}
			return nil
		})
		if err != nil {
			p.check(t, "large-header streams")
			t.Fatalf("%s: %v", p.name, err)
		}
		p.streams += k
		p.bigStreams += k
		p.check(t, "large-header streams")
	}
}

// steady runs n small streams of every kind on every VM.
func (w *proofWorkload) steady(t *testing.T, vms []*proofVM, n int) {
	t.Helper()
	for _, p := range vms {
		err := p.each(func(vm *host.VM) error {
			for i := range n {
				k := benchKinds[i%len(benchKinds)]
				res, err := vm.RoundTrip(k.req, func(host.Request) host.Response { return k.up })
				if err != nil {
					return fmt.Errorf("small stream %d (%s): %w", i, k.name, err)
				}
				if res.Status != k.status {
					return fmt.Errorf("small stream %d (%s): got status %d; want %d", i, k.name, res.Status, k.status)
				}
			}
			vm.ResetLogs() // host-side retention only
			return nil
		})
		if err != nil {
			p.check(t, "small streams")
			t.Fatalf("%s: %v", p.name, err)
		}
		p.streams += n
		p.check(t, "small streams")
	}
}

// Test_that_the_guest_runtime_never_calls_poll_oneoff is the proof for
// Envoy 1.33 to 1.38. Under the older-Envoy emulation (poll_oneoff answers
// ENOSYS, and is forbidden inside proxy_on_memory_allocate), for 30 s of
// wall-clock time (CORS_PROOF_SECONDS), it interleaves on real cors.wasm
// VMs: bursts of 16 concurrent streams with 1 to 24 header values of 32 to
// 256 KiB each (the guest heap grows), their release, steady small streams of every
// kind (GC cycles on a smaller heap, so that the scavenger has memory to
// return), and, every 6 s, a reconfiguration: a new VM configured with the
// other configuration (this host, like a fresh Envoy worker, configures a VM
// once), the older VMs kept running, up to 3. It asserts that no VM ever
// calls poll_oneoff, makes a restricted call or dies, and that the heap
// really grew. With fresh benchmark builds (make bench, make soak), each VM
// has a cors-bench.wasm twin running the same streams, whose GC cycles,
// heap and scavenger numbers are logged.
func Test_that_the_guest_runtime_never_calls_poll_oneoff(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 30 s of wall-clock time")
	}
	requireWasm(t)
	dur := proofDuration(t)
	why, twins := haveBenchPlugins()
	if !twins {
		t.Logf("no cors-bench.wasm twins, so no GC numbers (%s)", why)
	}
	const (
		burst         = 16              // concurrent large-header streams per burst
		small         = 2000            // small streams per VM between bursts
		reconfigEvery = 6 * time.Second // a new VM with the other configuration
		maxVMs        = 3               // VMs kept running; the oldest is retired
		logEvery      = 5 * time.Second
	)
	configs := 0
	newProofVM := func() *proofVM {
		config := proofConfigs[configs%len(proofConfigs)]
		p := &proofVM{name: "vm" + strconv.Itoa(configs+1) + " (config " + string(rune('A'+configs%len(proofConfigs))) + ")"}
		configs++
		p.vm = newVM(t, corsPlugin, config)
		p.memStart = p.vm.MemorySize()
		if twins {
			p.twin = newVM(t, corsBenchPlugin, config)
		}
		return p
	}
	w := newProofWorkload()
	first := newProofVM()
	vms := []*proofVM{first}
	var retired []*proofVM
	start := time.Now()
	lastReconfig, lastLog := start, start
	cycles := 0
	logState := func() {
		var b strings.Builder
		fmt.Fprintf(&b, "%5.1fs: %d cycles, %.2f GiB of large header values sent", time.Since(start).Seconds(), cycles, float64(w.sent)/(1<<30))
		for _, p := range vms {
			fmt.Fprintf(&b, "\n  %s: %d streams (%d large), linear memory %.1f MiB (%.1f after configure)",
				p.name, p.streams, p.bigStreams, mib(p.vm.MemorySize()), mib(p.memStart))
			if p.twin != nil {
				m := func(i uint64) uint64 { return guestMetric(t, p.twin, i) }
				fmt.Fprintf(&b, "; twin: %d GC cycles, heap live %.1f MiB, goal %.1f MiB, objects %.1f MiB, free %.1f MiB, released %.1f MiB, mapped %.1f MiB; scavenger: background %.2f ms, assist %.2f ms; goroutines %d, runnable %d",
					m(metricGCCycles), mibU(m(metricHeapLive)), mibU(m(metricHeapGoal)), mibU(m(metricHeapObjects)), mibU(m(metricHeapFree)),
					mibU(m(metricHeapReleased)), mibU(m(metricMappedTotal)), float64(m(metricScavengeBgNs))/1e6, float64(m(metricScavengeAsNs))/1e6,
					m(metricGoroutines), m(metricRunnable))
			}
		}
		t.Log(b.String())
	}
	for time.Since(start) < dur {
		w.grow(t, vms, burst)
		w.steady(t, vms, small)
		cycles++
		if time.Since(lastReconfig) >= reconfigEvery {
			lastReconfig = time.Now()
			vms = append(vms, newProofVM())
			if len(vms) > maxVMs {
				retired = append(retired, vms[0])
				vms[0].check(t, "its last streams")
				vms = vms[1:]
			}
		}
		if time.Since(lastLog) >= logEvery {
			lastLog = time.Now()
			logState()
		}
	}
	logState()

	total, big := 0, 0
	var gcs, maxMem uint64
	for _, p := range append(retired, vms...) {
		p.check(t, "the end of the test")
		total += p.streams
		big += p.bigStreams
		maxMem = max(maxMem, uint64(p.vm.MemorySize()))
		if p.twin != nil {
			gcs += guestMetric(t, p.twin, metricGCCycles)
		}
	}
	twinGCs := "no twins"
	if twins {
		twinGCs = strconv.FormatUint(gcs, 10) + " GC cycles on the twins"
	}
	t.Logf("proof: %s under the older-Envoy host (poll_oneoff: ENOSYS): %d VMs configured, %d cycles, %d streams on the cors.wasm VMs (%d with 32-256 KiB header values, %.2f GiB of them; the twins ran as many), %s, linear memory up to %.1f MiB; 0 poll_oneoff calls, 0 restricted calls, no VM died",
		time.Since(start).Round(time.Second), configs, cycles, total, big, float64(w.sent)/(1<<30), twinGCs, mibU(maxMem))

	// The proof is only worth its workload: the first VM's guest heap must
	// have grown well past its size after configure.
	if grown := first.vm.MemorySize() - first.memStart; grown < 4<<20 {
		t.Errorf("%s: linear memory grew by %.1f MiB only; the large-header bursts no longer grow the guest heap, so this test no longer drives the scavenger: make them larger", first.name, mib(grown))
	}
	if first.twin != nil {
		if n := guestMetric(t, first.twin, metricGCCycles); n < 20 {
			t.Errorf("%s: %d GC cycles; want at least 20 for the test to mean anything", first.name, n)
		}
	}
	// Why it holds: the background scavenger is woken at every GC and has
	// memory to return, but it only runs when the callback goroutine enters
	// the scheduler, which the plugin never does. If it ever runs, the
	// timer that kills the VM (see the control test) is one GC away.
	for _, p := range append(retired, vms...) {
		if p.twin != nil {
			if ns := guestMetric(t, p.twin, metricScavengeBgNs); ns != 0 {
				t.Errorf("%s: the background scavenger ran (%d ns): the guest entered the scheduler, and under Envoy 1.33-1.38 its timer kills the VM at the next GC; see RATIONALE.md", p.name, ns)
			}
		}
	}
}

func mibU(n uint64) float64 { return float64(n) / (1 << 20) }

// Test_that_one_scheduler_entry_would_kill_the_VM_under_older_Envoy is the
// control experiment of the proof: it shows the failure the proof rules
// out, and that the harness sees it. On a cors-bench.wasm VM, after the
// heap has grown and shrunk, a single runtime.Gosched (the test-only export
// cors_bench_gosched; the plugin itself never enters the scheduler) lets
// the background scavenger run: it returns memory, then sleeps on a timer,
// which initialises the netpoller. From then on every stop-the-world calls
// netpoll(0), that is poll_oneoff (the plugin allocates nothing per stream,
// so garbage from the test-only cors_bench_garbage drives the collector):
// under the older Envoy the next GC kills
// the VM ("fatal error: poll_oneoff failed"); under a newer Envoy (0
// events) the VM lives, and the poll_oneoff calls are counted.
func Test_that_one_scheduler_entry_would_kill_the_VM_under_older_Envoy(t *testing.T) {
	if testing.Short() {
		t.Skip("long: about 10 s")
	}
	corsBench, _ := benchPlugins(t)
	b, err := os.ReadFile(benchWasmPath(t, "cors-bench.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	newer, err := host.Compile(context.Background(), b, host.WithPollOneoff(host.PollOneoffNoEvents))
	if err != nil {
		t.Fatal(err)
	}
	defer newer.Close(context.Background())

	for _, tc := range []struct {
		name   string
		plugin *host.Plugin
		dies   bool
	}{
		{name: "Envoy 1.33-1.38 (ENOSYS)", plugin: corsBench, dies: true},
		{name: "newer Envoy (0 events)", plugin: newer, dies: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm := newVM(t, tc.plugin, proofConfigs[0])
			p := &proofVM{name: "vm", vm: vm}
			w := newProofWorkload()
			// The scavenger returns memory only when the heap retains more
			// than its goal: grow the heap, then shrink it with GC cycles
			// on small streams. A few tries, in case the first finds
			// nothing to return.
			for try := range 5 {
				w.grow(t, []*proofVM{p}, 16)
				w.steady(t, []*proofVM{p}, 20_000)
				gcBefore := guestMetric(t, vm, metricGCCycles)
				if _, err := vm.CallExport(exportGosched); err != nil {
					t.Fatalf("%s: %v", exportGosched, err)
				}
				for i := range 100_000 {
					k := benchKinds[i%len(benchKinds)]
					_, err := vm.RoundTrip(k.req, func(host.Request) host.Response { return k.up })
					if err == nil && i%16 == 0 {
						// The plugin allocates nothing per stream: drive the
						// collector with garbage between streams.
						_, err = vm.CallExport(exportGarbage, 256<<10)
					}
					if err != nil {
						if !tc.dies {
							t.Fatalf("try %d, stream %d after the scheduler entry: %v", try, i, err)
						}
						var stderr strings.Builder
						for _, e := range vm.AllLogs() {
							if e.Level == host.LogError {
								stderr.WriteString(e.Message)
							}
						}
						if !strings.Contains(stderr.String(), "fatal error: poll_oneoff failed") {
							t.Fatalf("try %d: the VM died, but not of poll_oneoff: %v", try, err)
						}
						t.Logf("as expected: the VM died %d streams after one scheduler entry (try %d, %d poll_oneoff calls): %q, in %s",
							i, try, vm.PollOneoffCalls(), firstWords(stderr.String(), 8),
							strings.Join(callers(stderr.String(), "runtime.netpoll(", 3), " < "))
						return
					}
					if !tc.dies && i > 5_000 && vm.PollOneoffCalls() > 0 {
						t.Logf("as expected: the VM lives, and called poll_oneoff %d times after one scheduler entry (try %d, %d GC cycles)",
							vm.PollOneoffCalls(), try, guestMetric(t, vm, metricGCCycles)-gcBefore)
						return
					}
				}
				t.Logf("try %d: %d GC cycles, %d poll_oneoff calls after the scheduler entry; the scavenger had nothing to return", try,
					guestMetric(t, vm, metricGCCycles)-gcBefore, vm.PollOneoffCalls())
			}
			t.Fatalf("after 5 tries the scheduler entry never led to poll_oneoff: the Go runtime changed, and the reasoning in RATIONALE.md (Why is Envoy 1.33-1.38 safe?) must be revisited")
		})
	}
}

// callers returns, from a Go traceback, the function whose frame line starts
// with fn and the n frames below it (its callers), by name.
func callers(traceback, fn string, n int) []string {
	i := strings.Index(traceback, fn)
	if i < 0 {
		return []string{"(" + strings.TrimSuffix(fn, "(") + " not in the traceback)"}
	}
	var out []string
	for _, line := range strings.Split(traceback[i:], "\n") {
		if line == "" || strings.HasPrefix(line, "\t") || strings.HasPrefix(line, " ") {
			continue
		}
		if strings.HasPrefix(line, "goroutine ") || len(out) > n {
			break
		}
		name, _, _ := strings.Cut(line, "(")
		out = append(out, name)
	}
	return out
}

// firstWords returns the first n words of s, on one line.
func firstWords(s string, n int) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(n, len(f))], " ")
}
