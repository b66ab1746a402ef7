package examples

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/corsfilter/corsfilter/policy"
)

const rateLimitFilter = "envoy.filters.http.local_ratelimit"

// TestEnvoyRateLimitExample checks examples/envoy/ratelimit.yaml, the
// guide's composition of the CORS filter with local_ratelimit keyed on the
// Origin header: a valid bootstrap (go-control-plane, every typed_config
// decoded and validated), the order CORS, local_ratelimit, jwt_authn,
// router, a limiter that is enabled and enforced, descriptors whose key is
// the one the route's request_headers action produces from Origin, exact
// values that are origins, and a CORS policy that exposes the rate-limit
// headers to the pages it allows.
func TestEnvoyRateLimitExample(t *testing.T) {
	yml, err := os.ReadFile("envoy/ratelimit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := envoyBootstrap(yml)
	if err != nil {
		t.Fatalf("ratelimit.yaml is not a valid bootstrap: %v", err)
	}
	chains, err := httpFilters(bs)
	if err != nil {
		t.Fatalf("ratelimit.yaml: %v", err)
	}
	hcms, err := connectionManagers(bs)
	if err != nil || len(hcms) != 1 || len(chains) != 1 {
		t.Fatalf("ratelimit.yaml: want one http_connection_manager, got %d (%v)", len(hcms), err)
	}
	checkPathNormalization(t, hcms[0])

	chain := chains[0]
	names := make([]string, len(chain))
	for i, f := range chain {
		names[i] = f.GetName()
	}
	want := []string{wasmFilter, rateLimitFilter, jwtFilter, "envoy.filters.http.router"}
	if !slices.Equal(names, want) {
		t.Fatalf("filters %v, want %v: CORS first (it answers preflights and decorates the 429), then the limiter, then authentication", names, want)
	}

	// The route turns the Origin header into the descriptor (origin, value).
	descriptorKey := ""
	for _, vh := range hcms[0].GetRouteConfig().GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			for _, rl := range r.GetRoute().GetRateLimits() {
				for _, a := range rl.GetActions() {
					if rh := a.GetRequestHeaders(); rh != nil {
						if !strings.EqualFold(rh.GetHeaderName(), "origin") {
							t.Errorf("route %s: request_headers reads %q, want origin", r.GetName(), rh.GetHeaderName())
						}
						descriptorKey = rh.GetDescriptorKey()
					}
				}
			}
		}
	}
	if descriptorKey == "" {
		t.Fatal("no route has a rate_limits action reading the Origin header")
	}

	var lr localratelimitv3.LocalRateLimit
	if err := chain[1].GetTypedConfig().UnmarshalTo(&lr); err != nil {
		t.Fatal(err)
	}
	hundred := func(p interface {
		GetDefaultValue() *typev3.FractionalPercent
	}) bool {
		v := p.GetDefaultValue()
		return v.GetNumerator() == 100 && v.GetDenominator() == typev3.FractionalPercent_HUNDRED
	}
	if !hundred(lr.GetFilterEnabled()) || !hundred(lr.GetFilterEnforced()) {
		t.Error("filter_enabled and filter_enforced must be 100%: both default to 0%, and the limiter then limits nothing")
	}
	if lr.GetAlwaysConsumeDefaultTokenBucket().GetValue() {
		t.Error("always_consume_default_token_bucket must be false: every origin's requests would also drain the shared default bucket")
	}
	defaultInterval := lr.GetTokenBucket().GetFillInterval().AsDuration()
	if defaultInterval <= 0 {
		t.Fatal("the default token bucket needs a fill_interval")
	}
	wildcards := 0
	for i, d := range lr.GetDescriptors() {
		checkDescriptor(t, i, d, descriptorKey)
		if d.GetEntries()[0].GetValue() == "" {
			wildcards++
		}
		if iv := d.GetTokenBucket().GetFillInterval().AsDuration(); iv%defaultInterval != 0 {
			t.Errorf("descriptors[%d]: fill_interval %v is not a multiple of the default bucket's %v, which Envoy requires", i, iv, defaultInterval)
		}
	}
	if wildcards != 1 {
		t.Errorf("%d value-less descriptors, want one: a bucket per origin", wildcards)
	}
	if lr.GetMaxDynamicDescriptors().GetValue() == 0 {
		t.Error("max_dynamic_descriptors should be set: it bounds the buckets a stream of origins can create")
	}

	// The CORS policy parses, and exposes the X-RateLimit-* headers the
	// limiter adds to the pages it allows, so that they can back off.
	var w wasmfilterv3.Wasm
	if err := chain[0].GetTypedConfig().UnmarshalTo(&w); err != nil {
		t.Fatal(err)
	}
	var sv wrapperspb.StringValue
	if err := w.GetConfig().GetConfiguration().UnmarshalTo(&sv); err != nil {
		t.Fatal(err)
	}
	p := parsePolicy(t, "ratelimit.yaml", []byte(sv.GetValue()))
	if lr.GetEnableXRatelimitHeaders() != ratelimitv3.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03 {
		t.Fatal("enable_x_ratelimit_headers: want DRAFT_VERSION_03, which the CORS rules expose")
	}
	for _, c := range []struct{ origin, path string }{
		{"https://app.example.com", "/api/app/orders"},
		{"https://anyone.example", "/api/public/items"},
	} {
		d := p.Decide(&policy.Request{Method: "GET", Scheme: "http", Authority: "127.0.0.1:8080", Path: c.path, Origin: []string{c.origin}})
		if d.Outcome != policy.OutcomeActualAllowed {
			t.Fatalf("%s from %s: %v (%s)", c.path, c.origin, d.Outcome, d.Reason)
		}
		var aceh string
		for _, h := range d.Headers() {
			if strings.EqualFold(h.Name, "access-control-expose-headers") {
				aceh = h.Value
			}
		}
		if !strings.Contains(aceh, "x-ratelimit-remaining") {
			t.Errorf("%s from %s: Access-Control-Expose-Headers %q does not expose x-ratelimit-remaining", c.path, c.origin, aceh)
		}
	}
}

// checkDescriptor requires a descriptor of one entry, keyed as the route's
// action produces it, whose value (when set) is an origin as browsers send
// it: a value in another form would never match.
func checkDescriptor(t *testing.T, i int, d *ratelimitv3.LocalRateLimitDescriptor, key string) {
	t.Helper()
	es := d.GetEntries()
	if len(es) != 1 || es[0].GetKey() != key {
		t.Errorf("descriptors[%d]: entries %v; want one entry with key %q (descriptors match verbatim)", i, es, key)
		return
	}
	if v := es[0].GetValue(); v != "" {
		if _, err := policy.Parse([]byte(`{"allowed_origins": [` + policy.Quote(v) + `]}`)); err != nil || strings.Contains(v, "*") {
			t.Errorf("descriptors[%d]: %q is not an exact origin as browsers send it: %v", i, v, err)
		}
	}
}

// TestEnvoyRateLimitSchemaCatchesMistakes shows that the schema check of
// ratelimit.yaml is not vacuous.
func TestEnvoyRateLimitSchemaCatchesMistakes(t *testing.T) {
	yml, err := os.ReadFile("envoy/ratelimit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ old, new string }{
		{"max_dynamic_descriptors: 1000", "max_dynamic_descriptor: 1000"},
		{"denominator: HUNDRED}\n              filter_enforced", "denominator: HUNDREDS}\n              filter_enforced"},
		{"descriptor_key: origin}", "descriptor_key: \"\"}"},
		{"stat_prefix: origin_ratelimit", "stat_prefix: \"\""},
	} {
		if !bytes.Contains(yml, []byte(tt.old)) {
			t.Fatalf("ratelimit.yaml no longer contains %q", tt.old)
		}
		bs, err := envoyBootstrap(bytes.Replace(yml, []byte(tt.old), []byte(tt.new), 1))
		if err == nil {
			_, err = httpFilters(bs)
		}
		if err == nil {
			t.Errorf("the mistake %q -> %q was accepted", tt.old, tt.new)
		}
	}
}
