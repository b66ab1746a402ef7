package e2e

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/corsfilter/corsfilter/host"
	"github.com/corsfilter/corsfilter/policy"
	"github.com/corsfilter/corsfilter/policy/mint"
)

// The hostile values of docs/spec.md §6: a 64 KiB Origin, and a preflight
// asking for 10,000 request headers.
var (
	hugeOrigin = "https://" + strings.Repeat("a", 64<<10-len("https://.example")) + ".example"
	hugeACRH   = strings.TrimSuffix(strings.Repeat("x-a,", 10_000), ",")
)

// hostileRequests pairs each hostile request with the ordinary denied
// request it must cost no more than twice, under the credentialed config
// unless the row names another.
var hostileRequests = []struct {
	name              string
	config            string // "": credentialed
	ordinary, hostile host.Request
	metric            string // the outcome both are counted as
}{
	{name: "actual-origin-64KiB", ordinary: actual("POST", evil), hostile: actual("POST", hugeOrigin), metric: "cors.default.actual_denied"},
	{name: "preflight-origin-64KiB", ordinary: preflight(evil, "PUT", ""), hostile: preflight(hugeOrigin, "PUT", ""), metric: "cors.default.preflight_denied_origin"},
	{name: "preflight-acrh-10000", ordinary: preflight(app, "PUT", "x-other"), hostile: preflight(app, "PUT", hugeACRH), metric: "cors.default.preflight_denied_headers"},
	// A flood of forged grants (own origin, real rule, known key id, valid
	// time window, bad signature) against a budget of one verification a
	// second: the rest are refused as busy, unverified (docs/grants.md).
	{name: "grant-flood", config: grantConfig(`,"max_verifications_per_second":1`, "k1"),
		ordinary: actual("PUT", evil), hostile: granted(actual("PUT", customer), forgedGrant()), metric: "cors.widget.actual_denied"},
}

// forgedGrant is a grant for customer under key id k1 that k2 signed, valid
// for an hour from the start of the tests.
func forgedGrant() string {
	now := time.Now().Unix()
	tok, err := mint.Grant(grantKey(2), &policy.Grant{KeyID: "k1", Origin: customer, IssuedAt: now - 10, ExpiresAt: now + 3600, ID: "forged", Rules: []string{"widget"}})
	if err != nil {
		panic(err)
	}
	return tok
}

// hostileConfig returns a row's configuration.
func hostileConfig(config string) string {
	if config == "" {
		return credentialed
	}
	return config
}

func Test_that_hostile_requests_are_denied_like_ordinary_ones(t *testing.T) {
	for _, hr := range hostileRequests {
		t.Run(hr.name, func(t *testing.T) {
			vm := newVM(t, corsPlugin, hostileConfig(hr.config))
			want, err := vm.RoundTrip(hr.ordinary, nil)
			if err != nil {
				t.Fatalf("ordinary request: %v", err)
			}
			vm.ResetLogs()
			got, err := vm.RoundTrip(hr.hostile, nil)
			if err != nil {
				t.Fatalf("hostile request: %v", err)
			}
			checkResult(t, got, want.Status, want.Forwarded, map[string]string{"vary": vary(want)}, true)
			if n, _ := vm.Metric(hr.metric); n != 2 {
				t.Errorf("%s: got %d; want the hostile request counted like the ordinary one (2)", hr.metric, n)
			}
			for _, line := range vm.Logs(host.LogDebug) {
				if len(line) > 512 {
					t.Errorf("debug log line of %d bytes (%.120q…); want at most 512", len(line), line)
				}
			}
			checkHealthy(t, vm)
		})
	}
}

// vary returns the response's one Vary value, or absent.
func vary(res host.Result) string {
	if v := res.Values("vary"); len(v) == 1 {
		return v[0]
	}
	return absent
}

// BenchmarkHostile runs each hostile request of docs/spec.md §6 interleaved
// with its ordinary denied counterpart on one VM, through cors.wasm, and
// reports the ratio of their costs in thread CPU time as hostile/ordinary
// (budget: ≤ 2), with each cost per stream (ordinary-ns/stream,
// hostile-ns/stream). ns/op counts both streams.
//
//	go test -run '^$' -bench BenchmarkHostile ./e2e/
func BenchmarkHostile(b *testing.B) {
	requireWasm(b)
	for _, hr := range hostileRequests {
		b.Run("req="+hr.name, func(b *testing.B) {
			vm := newVM(b, corsPlugin, hostileConfig(hr.config))
			// Thread CPU time is only meaningful if this goroutine stays
			// on one thread.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			stream := func(r host.Request) time.Duration {
				start := threadCPUTime()
				if _, err := vm.RoundTrip(r, nil); err != nil {
					b.Fatal(err)
				}
				return threadCPUTime() - start
			}
			for range 1000 { // warm-up: the guest heap grows to its working size
				stream(hr.ordinary)
				stream(hr.hostile)
			}
			vm.ResetLogs()
			var ordinary, hostile time.Duration
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				ordinary += stream(hr.ordinary)
				hostile += stream(hr.hostile)
				if n++; n%10_000 == 0 {
					vm.ResetLogs() // host-side retention only
				}
			}
			b.ReportMetric(float64(hostile)/float64(ordinary), "hostile/ordinary")
			b.ReportMetric(float64(ordinary.Nanoseconds())/float64(n), "ordinary-ns/stream")
			b.ReportMetric(float64(hostile.Nanoseconds())/float64(n), "hostile-ns/stream")
		})
	}
}
