package e2e

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/host"
	"github.com/corsfilter/corsfilter/policy"
)

const (
	app  = "https://app.example.com"
	evil = "https://evil.example"
)

// credentialed is the main scenario config: one origin, credentials, extra
// methods and headers, exposed headers and a max age.
const credentialed = `{
  "allowed_origins": ["https://app.example.com"],
  "allowed_methods": ["PUT", "DELETE"],
  "allowed_request_headers": ["x-token"],
  "exposed_response_headers": ["x-request-id"],
  "allow_credentials": true,
  "max_age_seconds": 600
}`

// absent marks a header that must not reach the client.
const absent = "\x00absent"

func preflight(origin, method, headers string) host.Request {
	r := host.Request{Method: "OPTIONS", Scheme: "https", Authority: "api.example.com", Path: "/items/1",
		Headers: h("origin", origin, "access-control-request-method", method)}
	if headers != "" {
		r.Headers = append(r.Headers, host.Header{Name: "access-control-request-headers", Value: headers})
	}
	return r
}

func actual(method, origin string) host.Request {
	r := host.Request{Method: method, Scheme: "https", Authority: "api.example.com", Path: "/items/1?x=1"}
	if origin != "" {
		r.Headers = h("origin", origin)
	}
	return r
}

func checkResult(t *testing.T, res host.Result, status int, forwarded bool, want map[string]string, noCORS bool) {
	t.Helper()
	if res.Status != status || res.Forwarded != forwarded {
		t.Errorf("got status %d, forwarded %v; want %d, %v (headers %v)", res.Status, res.Forwarded, status, forwarded, res.Headers)
	}
	for name, v := range want {
		got := res.Values(name)
		switch {
		case v == absent && len(got) != 0:
			t.Errorf("%s: got %q; want absent", name, got)
		case v != absent && !slices.Equal(got, []string{v}):
			t.Errorf("%s: got %q; want exactly [%q]", name, got, v)
		}
	}
	if noCORS {
		for _, kv := range res.Headers {
			if strings.HasPrefix(kv.Name, "access-control-") {
				t.Errorf("got %s: %s; want no CORS header", kv.Name, kv.Value)
			}
		}
	}
}

// checkHealthy asserts the VM is alive, made no restricted call and never
// called poll_oneoff.
func checkHealthy(t *testing.T, vm *host.VM) {
	t.Helper()
	if err := vm.Err(); err != nil {
		t.Fatalf("VM died: %v", err)
	}
	if v := vm.Violations(); len(v) != 0 {
		t.Fatalf("restricted-callback violations: %v", v)
	}
	if n := vm.PollOneoffCalls(); n != 0 {
		t.Fatalf("poll_oneoff calls: %d; want 0", n)
	}
}

func TestLocalReplyHeaders(t *testing.T) {
	vm := newVM(t, corsPlugin, credentialed)
	res, err := vm.RoundTrip(preflight(evil, "PUT", ""), func(host.Request) host.Response {
		t.Fatal("a denied preflight reached the upstream")
		return host.Response{}
	})
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if !res.LocalReply || len(res.Body) == 0 {
		t.Fatalf("got %+v; want a local reply with a body", res)
	}
	if ct, _ := res.Header("content-type"); ct != "text/plain" {
		t.Fatalf("content-type: got %q; want text/plain", ct)
	}
}

func TestInvalidConfigRefused(t *testing.T) {
	cases := []struct {
		desc   string
		config string
	}{
		{desc: "several errors", config: `{"allowed_origins": ["https://App.example.com/", "*"], "allow_credentials": true, "max_age_seconds": 99999, "bogus": 1}`},
		{desc: "no origins", config: `{"allowed_methods": ["PUT"]}`},
		{desc: "not JSON", config: `{"allowed_origins": [`},
		{desc: "duplicate rule names", config: `{"rules": [{"name": "a", "allowed_origins": ["https://a.example"]}, {"name": "a", "allowed_origins": ["https://b.example"]}]}`},
		{desc: "rule names one Prometheus series apart", config: `{"allowed_origins": ["https://a.example"], "rules": [{"name": "web-app", "match": {"paths": ["/x"]}}, {"name": "web_app"}]}`},
	}
	requireWasm(t)
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			_, perr := policy.Parse([]byte(tc.config))
			if perr == nil {
				t.Fatalf("policy.Parse accepted %s", tc.config)
			}
			vm := newUnconfiguredVM(t, corsPlugin)
			err := vm.Configure([]byte(tc.config))
			if !errors.Is(err, host.ErrConfigRefused) {
				t.Fatalf("Configure: got %v; want ErrConfigRefused", err)
			}
			critical := strings.Join(vm.Logs(host.LogCritical), "\n")
			for e := range policy.Errors(perr) {
				if !strings.Contains(critical, e.Error()) {
					t.Errorf("critical logs lack %q; got:\n%s", e.Error(), critical)
				}
			}
			if _, err := vm.RoundTrip(actual("GET", app), nil); err == nil {
				t.Errorf("RoundTrip on a refused configuration: got nil error; want one")
			}
			checkHealthy(t, vm)
		})
	}
	t.Run("empty configuration", func(t *testing.T) {
		vm := newUnconfiguredVM(t, corsPlugin)
		if err := vm.Configure(nil); !errors.Is(err, host.ErrConfigRefused) {
			t.Fatalf("Configure(nil): got %v; want ErrConfigRefused", err)
		}
		if len(vm.Logs(host.LogCritical)) == 0 {
			t.Fatalf("no critical log for an empty configuration")
		}
	})
}

// routed selects rules by Envoy's route name.
const routed = `{"rules": [
  {"name": "api", "match": {"route_names": ["api-route"]}, "allowed_origins": ["https://app.example.com"]},
  {"name": "web", "match": {"route_names": ["web-route"]}, "allowed_origins": ["https://web.example.com"]}
]}`

func TestRouteSelectionAndMetrics(t *testing.T) {
	vm := newVM(t, corsPlugin, routed)
	onRoute := func(route string) host.Request {
		r := actual("GET", app)
		if route != "" {
			r.Properties = map[string]string{"xds.route_name": route}
		}
		return r
	}
	cases := []struct {
		desc     string
		route    string
		wantACAO string
		wantVary string
	}{
		{desc: "api route allows app", route: "api-route", wantACAO: app, wantVary: "Origin"},
		{desc: "web route does not allow app", route: "web-route", wantACAO: absent, wantVary: "Origin"},
		{desc: "no rule matches: untouched", route: "", wantACAO: absent, wantVary: absent},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			res, err := vm.RoundTrip(onRoute(tc.route), nil)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			checkResult(t, res, 200, true, map[string]string{
				"access-control-allow-origin": tc.wantACAO, "vary": tc.wantVary,
			}, false)
		})
	}
	wantMetrics := map[string]uint64{
		"cors.api.actual_allowed": 1,
		"cors.web.actual_denied":  1,
		"cors.unmatched":          1,
		"cors.api.actual_denied":  0,
	}
	for name, want := range wantMetrics {
		if got, ok := vm.Metric(name); !ok || got != want {
			t.Errorf("metric %s: got %d (defined %v); want %d", name, got, ok, want)
		}
	}
	checkHealthy(t, vm)
}

func TestMetrics(t *testing.T) {
	vm := newVM(t, corsPlugin, credentialed)
	permissive := func(host.Request) host.Response {
		return host.Response{Status: 200, Headers: h("access-control-allow-origin", "*")}
	}
	reqs := []host.Request{
		preflight(app, "PUT", ""), preflight(app, "DELETE", "x-token"),
		preflight(evil, "PUT", ""), preflight(app, "PATCH", ""), preflight(app, "PUT", "x-nope"),
		actual("GET", app), actual("GET", evil), actual("GET", ""),
	}
	for _, r := range reqs {
		if _, err := vm.RoundTrip(r, permissive); err != nil {
			t.Fatalf("RoundTrip: %v", err)
		}
	}
	want := map[string]uint64{
		"cors.default.preflight_allowed":        2,
		"cors.default.preflight_denied_origin":  1,
		"cors.default.preflight_denied_method":  1,
		"cors.default.preflight_denied_headers": 1,
		"cors.default.actual_allowed":           1,
		"cors.default.actual_denied":            1,
		"cors.default.not_cors":                 1,
		"cors.default.report_only_divergence":   0,
		"cors.internal_fault":                   0,
	}
	for name, w := range want {
		if got, ok := vm.Metric(name); !ok || got != w {
			t.Errorf("metric %s: got %d (defined %v); want %d", name, got, ok, w)
		}
	}
	if got, _ := vm.Metric("cors.default.upstream_cors_overridden"); got == 0 {
		t.Errorf("metric cors.default.upstream_cors_overridden: got 0; want the permissive upstream counted")
	}
	if len(vm.Logs(host.LogInfo)) == 0 {
		t.Errorf("no info log at start; want the effective policy summary")
	}
	checkHealthy(t, vm)
}

func TestReportOnlyDivergenceCounted(t *testing.T) {
	vm := newVM(t, corsPlugin, `{"allowed_origins": ["https://app.example.com"], "mode": "report_only"}`)
	for _, r := range []host.Request{preflight(evil, "PUT", ""), actual("GET", evil), actual("GET", app)} {
		res, err := vm.RoundTrip(r, nil)
		if err != nil {
			t.Fatalf("RoundTrip: %v", err)
		}
		if !res.Forwarded || res.Status != 200 || len(res.Headers) != 0 {
			t.Fatalf("report_only changed the response: %+v", res)
		}
	}
	if got, _ := vm.Metric("cors.default.report_only_divergence"); got != 2 {
		t.Fatalf("report_only_divergence: got %d; want 2", got)
	}
}
