package main

import (
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
)

// The origin sources under the SDK's emulator: one fetch on the tick, the
// answer installed, a failure keeping it. The e2e tests run the same on
// the real cors.wasm, on several VMs.

const sourced = `{"origin_sources":[{"name":"partners","cluster":"registry","authority":"registry.internal","path":"/origins","refresh_seconds":60,"timeout_ms":500}],
  "allowed_origin_sets":["partners"]}`

// fakeNow makes nowMS return *t for the test.
func fakeNow(t *testing.T, ms *int64) {
	old := nowMS
	nowMS = func() int64 { return *ms }
	t.Cleanup(func() { nowMS = old })
}

func allowedOrigin(host proxytest.HostEmulator, origin string) bool {
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, get("origin", origin), true)
	host.CallOnResponseHeaders(id, headers(":status", "200"), true)
	for _, h := range host.GetCurrentResponseHeaders(id) {
		if h[0] == "access-control-allow-origin" && h[1] == origin {
			return true
		}
	}
	return false
}

func TestSources_fetchOnTheTickAndFailStatic(t *testing.T) {
	now := int64(1_000_000)
	fakeNow(t, &now)
	host := start(t, sourced)
	if host.GetTickPeriod() != tickMS {
		t.Fatalf("tick period %d; want %d", host.GetTickPeriod(), tickMS)
	}
	if allowedOrigin(host, "https://a.partner.example") {
		t.Fatal("allowed before the first fetch")
	}
	host.Tick()
	calls := host.GetCalloutAttributesFromContext(proxytest.PluginContextID)
	if len(calls) != 1 || calls[0].Upstream != "registry" {
		t.Fatalf("callouts: %+v", calls)
	}
	want := map[string]string{":method": "GET", ":path": "/origins", ":authority": "registry.internal"}
	for _, h := range calls[0].Headers {
		if w, ok := want[h[0]]; ok && w != h[1] {
			t.Errorf("%s: %q; want %q", h[0], h[1], w)
		}
		delete(want, h[0])
	}
	if len(want) != 0 {
		t.Errorf("headers missing: %v", want)
	}
	host.CallOnHttpCallResponse(calls[0].CalloutID, headers(":status", "200", "etag", `"v1"`), nil,
		[]byte(`{"origins":["https://a.partner.example","null"]}`))
	if !allowedOrigin(host, "https://a.partner.example") {
		t.Fatal("not allowed after the fetch")
	}
	wantCounters(t, host, map[string]uint64{
		"cors.origin_source.partners.fetch_success":   1,
		"cors.origin_source.partners.invalid_entries": 1,
	})
	// Not due again before refresh_seconds.
	now += 30_000
	host.Tick()
	if n := len(host.GetCalloutAttributesFromContext(proxytest.PluginContextID)); n != 1 {
		t.Fatalf("%d callouts after 30 s; want 1", n)
	}
	// Due: a 500 keeps the set.
	now += 31_000
	host.Tick()
	calls = host.GetCalloutAttributesFromContext(proxytest.PluginContextID)
	if len(calls) != 2 {
		t.Fatalf("%d callouts after 61 s; want 2", len(calls))
	}
	etag := ""
	for _, h := range calls[1].Headers {
		if h[0] == "if-none-match" {
			etag = h[1]
		}
	}
	if etag != `"v1"` {
		t.Errorf("If-None-Match %q; want \"v1\"", etag)
	}
	host.CallOnHttpCallResponse(calls[1].CalloutID, headers(":status", "500"), nil, nil)
	if !allowedOrigin(host, "https://a.partner.example") {
		t.Error("a failed fetch dropped the set")
	}
	wantCounters(t, host, map[string]uint64{"cors.origin_source.partners.fetch_failure.status": 1})
	found := false
	for _, l := range host.GetWarnLogs() {
		found = found || strings.Contains(l, "fetch failed (status): status \"500\"; keeping version 1 (1 origins)")
	}
	if !found {
		t.Errorf("warn logs: %q", host.GetWarnLogs())
	}
}
