package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsfilter/corsfilter/host"
	"github.com/corsfilter/corsfilter/policy"
	"github.com/corsfilter/corsfilter/policy/mint"
)

// Grants on the real cors.wasm: the guest reads the clock through WASI's
// clock_time_get, which the host answers with the real time, as Envoy does.

const customer = "https://customer.example"

func grantKey(b byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)*3 + b
	}
	return ed25519.NewKeyFromSeed(seed)
}

func grantPub(k ed25519.PrivateKey) string {
	return base64.RawURLEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

// grantConfig has rule widget taking grants signed by the keys named, in
// the order given ("k1" is grantKey(1), "k2" grantKey(2)).
func grantConfig(extra string, keys ...string) string {
	var ks []string
	for _, id := range keys {
		ks = append(ks, `{"id":"`+id+`","ed25519_public_key":"`+grantPub(grantKey(id[1]-'0'))+`"}`)
	}
	return `{"rules":[{"name":"widget","allowed_origins":["https://app.example.com"],"allowed_methods":["PUT"],"debug":true,
		"grants":{"keys":[` + strings.Join(ks, ",") + `],"revoked":["revoked-id"]` + extra + `}}]}`
}

func mintFor(t testing.TB, keyID string, signer ed25519.PrivateKey, edit func(g *policy.Grant)) string {
	t.Helper()
	now := time.Now().Unix()
	g := &policy.Grant{KeyID: keyID, Origin: customer, IssuedAt: now - 10, ExpiresAt: now + 600, ID: "g-" + keyID, Rules: []string{"widget"}}
	if edit != nil {
		edit(g)
	}
	tok, err := mint.Grant(signer, g)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func granted(r host.Request, tok string) host.Request {
	sep := "?"
	if strings.Contains(r.Path, "?") {
		sep = "&"
	}
	r.Path += sep + "cors_grant=" + tok
	return r
}

func TestGrants_admitPreflightAndActual(t *testing.T) {
	vm := newVM(t, corsPlugin, grantConfig("", "k1"))
	tok := mintFor(t, "k1", grantKey(1), nil)
	res, err := vm.RoundTrip(granted(preflight(customer, "PUT", ""), tok), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 204, false, map[string]string{"access-control-allow-origin": customer, "access-control-allow-methods": "PUT",
		"access-control-allow-credentials": absent}, false)
	var upstreamPath string
	res, err = vm.RoundTrip(granted(actual("PUT", customer), tok), func(r host.Request) host.Response {
		upstreamPath = r.Path
		return host.Response{Status: 200}
	})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 200, true, map[string]string{"access-control-allow-origin": customer, "vary": "Origin"}, false)
	if upstreamPath != "/items/1?x=1" {
		t.Errorf("the upstream got path %q; want the grant stripped: /items/1?x=1", upstreamPath)
	}
	// Without a grant the origin stays denied.
	res, err = vm.RoundTrip(preflight(customer, "PUT", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 403, false, nil, true)
	if got, _ := vm.Metric("cors.widget.grant_admitted"); got != 2 {
		t.Errorf("grant_admitted: %d; want 2", got)
	}
	checkHealthy(t, vm)
}

func TestGrants_eachRefusalCounted(t *testing.T) {
	vm := newVM(t, corsPlugin, grantConfig("", "k1", "k2"))
	k1, k2 := grantKey(1), grantKey(2)
	now := time.Now().Unix()
	cases := []struct {
		outcome string
		tok     string
		origin  string
	}{
		{"malformed", "v1.nope", customer},
		{"unknown_key", mintFor(t, "k9", k1, nil), customer},
		{"bad_signature", mintFor(t, "k1", k2, nil), customer},
		{"revoked", mintFor(t, "k1", k1, func(g *policy.Grant) { g.ID = "revoked-id" }), customer},
		{"expired", mintFor(t, "k1", k1, func(g *policy.Grant) { g.IssuedAt, g.ExpiresAt = now-7200, now-3600 }), customer},
		{"not_yet_valid", mintFor(t, "k1", k1, func(g *policy.Grant) { g.IssuedAt, g.ExpiresAt = now+3600, now+7200 }), customer},
		{"origin_mismatch", mintFor(t, "k1", k1, nil), "https://other.example"},
		{"out_of_scope", mintFor(t, "k1", k1, func(g *policy.Grant) { g.Rules = []string{"api"} }), customer},
	}
	for _, tc := range cases {
		res, err := vm.RoundTrip(granted(preflight(tc.origin, "PUT", ""), tc.tok), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, res, 403, false, nil, true)
		if dbg, _ := res.Header("x-cors-debug"); !strings.Contains(dbg, "grant") {
			t.Errorf("%s: x-cors-debug %q does not name the grant", tc.outcome, dbg)
		}
		res, err = vm.RoundTrip(granted(actual("PUT", tc.origin), tc.tok), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, res, 200, true, nil, true)
	}
	for _, tc := range cases {
		if got, ok := vm.Metric("cors.widget.grant_" + tc.outcome); !ok || got != 2 {
			t.Errorf("cors.widget.grant_%s: %d (defined %v); want 2", tc.outcome, got, ok)
		}
	}
	if got, _ := vm.Metric("cors.widget.preflight_denied_origin"); got != uint64(len(cases)) {
		t.Errorf("preflight_denied_origin: %d; want %d", got, len(cases))
	}
	if got, _ := vm.Metric("cors.internal_fault"); got != 0 {
		t.Errorf("internal_fault: %d", got)
	}
	checkHealthy(t, vm)
}

// TestGrants_keyRotation: a new key is added beside the old, grants of both
// hold, then the old key goes; at no point is a grant of the current key
// refused.
func TestGrants_keyRotation(t *testing.T) {
	vm := newVM(t, corsPlugin, grantConfig("", "k1"))
	old, next := mintFor(t, "k1", grantKey(1), nil), mintFor(t, "k2", grantKey(2), nil)
	acao := func(tok string) string {
		t.Helper()
		res, err := vm.RoundTrip(granted(actual("PUT", customer), tok), nil)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := res.Header("access-control-allow-origin")
		return v
	}
	if acao(old) != customer || acao(next) != "" {
		t.Fatal("before rotation: want k1 admitted, k2 refused")
	}
	for _, step := range []struct {
		keys          []string
		oldOK, nextOK bool
	}{
		{[]string{"k1", "k2"}, true, true},
		{[]string{"k2"}, false, true},
	} {
		if err := vm.Reconfigure([]byte(grantConfig("", step.keys...))); err != nil {
			t.Fatal(err)
		}
		if got := acao(old) == customer; got != step.oldOK {
			t.Errorf("keys %v: old grant admitted %v; want %v", step.keys, got, step.oldOK)
		}
		if got := acao(next) == customer; got != step.nextOK {
			t.Errorf("keys %v: new grant admitted %v; want %v", step.keys, got, step.nextOK)
		}
	}
	checkHealthy(t, vm)
}

func TestGrants_parameterStripped(t *testing.T) {
	tok := mintFor(t, "k1", grantKey(1), nil)
	for _, tc := range []struct {
		extra, origin, path, want string
	}{
		{"", customer, "/w?a=1&cors_grant=" + tok + "&b=2", "/w?a=1&b=2"},
		{"", "https://other.example", "/w?cors_grant=" + tok, "/w"},     // refused grants are stripped too
		{"", "https://app.example.com", "/w?cors_grant=junk&x", "/w?x"}, // an allowed origin's as well
		{"", "", "/w?cors_grant=" + tok, "/w"},                          // and without Origin
		{`,"strip_parameter":false`, customer, "/w?cors_grant=" + tok, "/w?cors_grant=" + tok},
		{`,"query_parameter":"g"`, customer, "/w?g=" + tok + "&cors_grant=1", "/w?cors_grant=1"},
	} {
		vm := newVM(t, corsPlugin, grantConfig(tc.extra, "k1"))
		r := actual("GET", tc.origin)
		r.Path = tc.path
		var got string
		if _, err := vm.RoundTrip(r, func(r host.Request) host.Response { got = r.Path; return host.Response{Status: 200} }); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s%s: upstream path %q; want %q", tc.path, tc.extra, got, tc.want)
		}
		checkHealthy(t, vm)
	}
}

// TestGrants_allocateNothing measures the guest's heap allocations over
// granted streams on the benchmark build: zero once warm.
func TestGrants_allocateNothing(t *testing.T) {
	cors, _ := benchPlugins(t)
	vm := newVM(t, cors, grantConfig("", "k1"))
	tok := mintFor(t, "k1", grantKey(1), nil)
	reqs := []host.Request{
		granted(preflight(customer, "PUT", ""), tok),
		granted(actual("PUT", customer), tok),
		granted(actual("PUT", "https://other.example"), tok),
		granted(preflight(customer, "PUT", ""), "v1.junk"),
	}
	up := func(host.Request) host.Response { return host.Response{Status: 200} }
	for range 20 {
		for _, r := range reqs {
			if _, err := vm.RoundTrip(r, up); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := guestMallocs(t, vm)
	for range 50 {
		for _, r := range reqs {
			if _, err := vm.RoundTrip(r, up); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := guestMallocs(t, vm) - before; n != 0 {
		t.Errorf("%d guest allocations over %d granted streams; want 0", n, 50*len(reqs))
	}
	checkHealthy(t, vm)
}

// TestGrants_floodIsBudgeted: a flood of well-formed grants with bad
// signatures (the attacker's own origin, the real rule, a known key id, a
// valid time window) is verified at most max_verifications_per_second
// times a second, the rest refused as busy without verifying; a grant the
// VM verified before keeps passing all along, and nothing allocates. On the
// benchmark build, under a fake clock, so that seconds are exact.
func TestGrants_floodIsBudgeted(t *testing.T) {
	benchPlugins(t)
	b, err := os.ReadFile(benchWasmPath(t, "cors-bench.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1764052800, 0)
	ctx := context.Background()
	plugin, err := host.Compile(ctx, b, host.WithFakeClock(start))
	if err != nil {
		t.Fatal(err)
	}
	defer plugin.Close(ctx)
	const budget = 5
	cfg := strings.Replace(grantConfig(`,"max_verifications_per_second":5`, "k1"), `{"rules"`, `{"report_interval_seconds":0,"rules"`, 1)
	vm := newVM(t, plugin, cfg)
	mintAt := func(signer ed25519.PrivateKey, id string) string {
		now := plugin.Now().Unix()
		tok, err := mint.Grant(signer, &policy.Grant{KeyID: "k1", Origin: customer, IssuedAt: now - 10, ExpiresAt: now + 600, ID: id, Rules: []string{"widget"}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := mintAt(grantKey(1), "good")
	var forged []string
	for i := range 40 {
		forged = append(forged, mintAt(grantKey(2), "forged-"+strconv.Itoa(i))) // another signer, key id k1
	}
	up := func(host.Request) host.Response { return host.Response{Status: 200} }
	roundTrip := func(r host.Request) host.Result {
		t.Helper()
		res, err := vm.RoundTrip(r, up)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	metric := func(o string) uint64 { n, _ := vm.Metric("cors.widget.grant_" + o); return n }
	admitGood := func() {
		t.Helper()
		res := roundTrip(granted(preflight(customer, "PUT", ""), good))
		if v, _ := res.Header("access-control-allow-origin"); res.Status != 204 || v != customer {
			t.Fatalf("the good grant's preflight: %d, ACAO %q", res.Status, v)
		}
		res = roundTrip(granted(actual("PUT", customer), good))
		if v, _ := res.Header("access-control-allow-origin"); !res.Forwarded || v != customer {
			t.Fatalf("the good grant's request: forwarded %v, ACAO %q", res.Forwarded, v)
		}
	}
	admitGood() // verified once: one of this second's budget
	for second := range 3 {
		var mallocs uint64
		for i, tok := range forged {
			before := guestMallocs(t, vm)
			res := roundTrip(granted(preflight(customer, "PUT", ""), tok))
			if i%8 == 0 {
				admitGood()
			}
			mallocs += guestMallocs(t, vm) - before
			if res.Status != 403 {
				t.Fatalf("second %d, forged grant %d: %d", second, i, res.Status)
			}
			if dbg, _ := res.Header("x-cors-debug"); i >= budget && !strings.Contains(dbg, "verification budget") {
				t.Errorf("second %d, forged grant %d: x-cors-debug %q; want the budget named", second, i, dbg)
			}
		}
		// The first second's budget also paid for the good grant.
		verified := uint64(budget*(second+1) - 1)
		if got := metric("bad_signature"); got != verified {
			t.Errorf("after second %d: %d bad signatures verified; want %d", second, got, verified)
		}
		if got := metric("busy"); got != uint64(len(forged)*(second+1))-verified {
			t.Errorf("after second %d: %d busy; want %d", second, got, uint64(len(forged)*(second+1))-verified)
		}
		if second > 0 && mallocs != 0 { // the first second warms the guest up
			t.Errorf("second %d: %d guest allocations over %d streams; want 0", second, mallocs, len(forged)+2*len(forged)/8)
		}
		if err := plugin.Advance(time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := metric("admitted"), uint64(2+3*2*len(forged)/8); got != want {
		t.Errorf("grant_admitted %d; want %d: the good grant passed every time", got, want)
	}
	// A grant the VM has not seen waits for the next second once the
	// budget is spent: the price of the bound, which the busy counter shows.
	for range budget {
		roundTrip(granted(preflight(customer, "PUT", ""), forged[0]))
	}
	fresh := mintAt(grantKey(1), "fresh")
	if res := roundTrip(granted(preflight(customer, "PUT", ""), fresh)); res.Status != 403 {
		t.Errorf("an unseen good grant with the budget spent: %d; want 403 (busy)", res.Status)
	}
	if err := plugin.Advance(time.Second); err != nil {
		t.Fatal(err)
	}
	if res := roundTrip(granted(preflight(customer, "PUT", ""), fresh)); res.Status != 204 {
		t.Errorf("the same grant the next second: %d; want 204", res.Status)
	}
	checkHealthy(t, vm)
}
