package main

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/corsfilter/corsfilter/policy"
)

const (
	app    = "https://app.example.com"
	evil   = "https://evil.example"
	basic  = `{"allowed_origins":["https://app.example.com"]}`
	routes = `{"rules":[
		{"name":"public","match":{"route_names":["public-route"]},"allowed_origins":["https://app.example.com"]},
		{"name":"admin","match":{"route_names":["admin-route"]},"allowed_origins":["https://admin.example.com"],
		 "reject_disallowed_origins":true}]}`
)

// start runs the plugin with config in the SDK's host emulator and requires
// a successful start.
func start(t *testing.T, config string) proxytest.HostEmulator {
	t.Helper()
	host := newHost(t, config)
	if st := host.StartPlugin(); st != types.OnPluginStartStatusOK {
		t.Fatalf("plugin start failed: %v", host.GetCriticalLogs())
	}
	return host
}

func newHost(t *testing.T, config string) proxytest.HostEmulator {
	t.Helper()
	opt := proxytest.NewEmulatorOption().WithVMContext(&vmContext{}).WithPluginConfiguration([]byte(config))
	host, reset := proxytest.NewHostEmulator(opt)
	t.Cleanup(reset)
	return host
}

// headers builds a header list from name, value pairs.
func headers(kv ...string) [][2]string {
	var hs [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		hs = append(hs, [2]string{kv[i], kv[i+1]})
	}
	return hs
}

func preflight(origin, method string, extra ...string) [][2]string {
	return append(headers(":method", "OPTIONS", ":scheme", "https", ":authority", "api.example.com",
		":path", "/things", "origin", origin, "access-control-request-method", method), headers(extra...)...)
}

func get(extra ...string) [][2]string {
	return append(headers(":method", "GET", ":scheme", "https", ":authority", "api.example.com",
		":path", "/things"), headers(extra...)...)
}

func counter(t *testing.T, host proxytest.HostEmulator, name string) uint64 {
	t.Helper()
	v, err := host.GetCounterMetric(name)
	if err != nil {
		t.Fatalf("counter %s: %v", name, err)
	}
	return v
}

func wantCounters(t *testing.T, host proxytest.HostEmulator, want map[string]uint64) {
	t.Helper()
	for name, n := range want {
		if got := counter(t, host, name); got != n {
			t.Errorf("counter %s = %d, want %d", name, got, n)
		}
	}
}

func TestDenialsAreLoggedAtDebug(t *testing.T) {
	host := start(t, basic)
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, preflight(evil, "GET"), true)
	logs := strings.Join(host.GetDebugLogs(), "\n")
	for _, want := range []string{"cors: ", "default", `"` + evil + `"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("debug log %q lacks %q", logs, want)
		}
	}
	if info := strings.Join(host.GetInfoLogs(), "\n"); strings.Contains(info, evil) {
		t.Errorf("denial logged above debug: %q", info)
	}
}

// TestDenialLines holds each denial's debug line to its exact text: the
// rule, the kind of request, the quoted origin, the reason and the mode,
// whether the line's start was written at start-up (a governed rule) or not.
func TestDenialLines(t *testing.T) {
	host := start(t, `{"rules":[
		{"name":"shadow","match":{"hosts":["shadow.example.com"]},"mode":"report_only","allowed_origins":["https://app.example.com"]},
		{"name":"api","allowed_origins":["https://app.example.com"]}]}`)
	for _, c := range []struct {
		req  [][2]string
		want string
	}{
		{preflight(evil, "GET"), `cors: rule api denied preflight from origin "https://evil.example": origin not allowed (report_only false)`},
		{get("origin", evil), `cors: rule api denied actual from origin "https://evil.example": origin not allowed (report_only false)`},
		{headers(":method", "GET", ":scheme", "https", ":authority", "shadow.example.com", ":path", "/", "origin", evil),
			`cors: rule shadow denied actual from origin "https://evil.example": origin not allowed (report_only true)`},
	} {
		id := host.InitializeHttpContext()
		host.CallOnRequestHeaders(id, c.req, true)
		if logs := host.GetDebugLogs(); !slices.Contains(logs, c.want) {
			t.Errorf("debug logs %q lack %q", logs, c.want)
		}
	}
}

func TestDenialLogsQuoteAtMost64BytesOfTheOrigin(t *testing.T) {
	host := start(t, basic)
	origin := "https://" + strings.Repeat("a", 64<<10)
	id := host.InitializeHttpContext()
	host.CallOnRequestHeaders(id, preflight(origin, "GET"), true)
	logs := host.GetDebugLogs()
	if len(logs) != 1 {
		t.Fatalf("debug logs: got %d lines; want 1", len(logs))
	}
	want := `"https://` + strings.Repeat("a", 56) + `"…(65544 bytes)`
	if len(logs[0]) > 256 || !strings.Contains(logs[0], want) {
		t.Errorf("debug log (%d bytes) %.300q; want at most 256 bytes, with %s", len(logs[0]), logs[0], want)
	}
}

func TestReportOnlyChangesNothing(t *testing.T) {
	host := start(t, `{"allowed_origins":["https://app.example.com"],"mode":"report_only"}`)
	upstream := headers(":status", "200", "access-control-allow-origin", "*", "vary", "accept-encoding")
	tests := []struct {
		desc    string
		request [][2]string
	}{
		{"denied preflight", preflight(evil, "GET")},
		{"allowed preflight", preflight(app, "GET")},
		{"denied actual", get("origin", evil)},
		{"allowed actual", get("origin", app)},
	}
	for _, tc := range tests {
		id := host.InitializeHttpContext()
		if action := host.CallOnRequestHeaders(id, tc.request, true); action != types.ActionContinue {
			t.Errorf("%s: action = %v, want continue", tc.desc, action)
		}
		if reply := host.GetSentLocalResponse(id); reply != nil {
			t.Errorf("%s: local reply %d in report_only", tc.desc, reply.StatusCode)
		}
		host.CallOnResponseHeaders(id, upstream, false)
		if got := host.GetCurrentResponseHeaders(id); !slices.Equal(got, upstream) {
			t.Errorf("%s: response changed: %v", tc.desc, got)
		}
	}
	wantCounters(t, host, map[string]uint64{
		"cors.default.preflight_denied_origin":  1,
		"cors.default.preflight_allowed":        1,
		"cors.default.actual_denied":            1,
		"cors.default.actual_allowed":           1,
		"cors.default.report_only_divergence":   2,
		"cors.default.upstream_cors_overridden": 0,
	})
}

func TestRouteSelectionAndMetrics(t *testing.T) {
	host := start(t, routes)
	tests := []struct {
		route  string // "" = property absent
		origin string
		pause  bool
	}{
		{"public-route", app, false},
		{"public-route", app, false},
		{"admin-route", app, true}, // app is not allowed on admin: rejected
		{"admin-route", "https://admin.example.com", false},
		{"other-route", app, false},
		{"", app, false},
	}
	for _, tc := range tests {
		if tc.route != "" {
			if err := host.SetProperty([]string{"xds", "route_name"}, []byte(tc.route)); err != nil {
				t.Fatal(err)
			}
		}
		id := host.InitializeHttpContext()
		action := host.CallOnRequestHeaders(id, get("origin", tc.origin), true)
		if got := action == types.ActionPause; got != tc.pause {
			t.Errorf("route %q origin %s: paused = %t, want %t", tc.route, tc.origin, got, tc.pause)
		}
	}
	wantCounters(t, host, map[string]uint64{
		"cors.public.actual_allowed": 2,
		"cors.public.actual_denied":  0,
		"cors.admin.actual_denied":   1,
		"cors.admin.actual_allowed":  1,
		"cors.unmatched":             2,
		"cors.internal_fault":        0,
	})
	if _, err := host.GetCounterMetric("cors.public.unmatched"); err == nil {
		t.Error("unmatched defined per rule; it has no rule")
	}
}

func TestInvalidConfigFailsStart(t *testing.T) {
	tests := []struct {
		desc   string
		config string
		want   []string // substrings, each on its own critical log line
	}{
		{"empty", ``, []string{"cors: plugin configuration is required"}},
		{"every error listed", `{"allowed_origins":["https://App.example.com"],"max_age_seconds":999999,"mode":"audit"}`,
			[]string{"cors: invalid plugin configuration", "allowed_origins[0]", "max_age_seconds", "mode"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			host := newHost(t, tc.config)
			if st := host.StartPlugin(); st != types.OnPluginStartStatusFailed {
				t.Fatal("plugin started with an invalid configuration")
			}
			logs := host.GetCriticalLogs()
			for _, want := range tc.want {
				n := 0
				for _, l := range logs {
					if strings.Contains(l, want) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d critical log lines contain %q, want 1: %q", n, want, logs)
				}
			}
			for _, l := range logs {
				if !strings.HasPrefix(l, "cors: ") {
					t.Errorf("log line %q lacks the cors: prefix", l)
				}
			}
		})
	}
}

func TestStartLogsEffectivePolicy(t *testing.T) {
	host := start(t, `{"allowed_origins":["https://app.example.com"],"max_age_seconds":86400}`)
	info := strings.Join(host.GetInfoLogs(), "\n")
	if !strings.Contains(info, "cors: ") || !strings.Contains(info, app) {
		t.Errorf("start log %q lacks the effective policy", info)
	}
	if want := "(proxy-wasm ABI 0.2.0, built with " + runtime.Version() + ", public suffix list "; !strings.Contains(info, want) {
		t.Errorf("start log %q lacks %q", info, want)
	}
	if len(host.GetWarnLogs()) == 0 {
		t.Error("max age above 7200 not warned about")
	}
}

func TestStartLogsPolicyVersion(t *testing.T) {
	host := start(t, `{"version":"7","description":"storefront\nAPIs","allowed_origins":["https://app.example.com"]}`)
	info := host.GetInfoLogs()
	if !slices.Contains(info, `cors: policy version "7": "storefront APIs"`) {
		t.Errorf("start log %q lacks the policy's version and description", info)
	}
}

func TestPanicIsContained(t *testing.T) {
	host := start(t, basic)
	p := &pluginContext{}
	m, err := defineMetrics([]string{"default"}, defineCounter) // same names: same host counters
	if err != nil {
		t.Fatal(err)
	}
	p.metrics = m
	action := func() (a types.Action) {
		defer p.guard("test callback", &a)
		a = types.ActionPause
		panic("boom")
	}()
	if action != types.ActionContinue {
		t.Errorf("action after a panic = %v, want continue", action)
	}
	wantCounters(t, host, map[string]uint64{"cors.internal_fault": 1})
	if warn := strings.Join(host.GetWarnLogs(), "\n"); !strings.Contains(warn, "cors: internal fault: test callback: boom") {
		t.Errorf("warn log %q does not report the fault", warn)
	}
}

// Test_that_metric_names_stay_distinct_in_Prometheus defines the metrics
// of rules whose names the policy accepts, picked to tempt collisions, and
// checks that their names in Envoy's Prometheus output (the wasmcustom.
// namespace stripped, every character outside [a-zA-Z0-9_] turned into
// '_') are distinct. The policy refuses only rule names equal once '-' is
// '_'; that suffices because no metric suffix ends with '_' and another.
func Test_that_metric_names_stay_distinct_in_Prometheus(t *testing.T) {
	rules := []string{"a-b", "ab", "a_b_c", "A-b", "a", "internal", "x", "x_preflight", "preflight", "x_actual",
		"report", "report_only", "not", "same", "upstream", "upstream_cors", "cors", "unmatched", "off"}
	var config strings.Builder
	config.WriteString(`{"allowed_origins":["https://a.example"],"rules":[`)
	for i, r := range rules {
		if i > 0 {
			config.WriteByte(',')
		}
		config.WriteString(`{"name":"` + r + `","match":{"paths":["/` + r + `"]}}`)
	}
	config.WriteString(`]}`)
	p, err := policy.Parse([]byte(config.String()))
	if err != nil {
		t.Fatalf("policy.Parse: %v", err)
	}
	seen := map[string]string{}
	_, err = defineMetrics(p.RuleNames(), func(name string) (metric, error) {
		series := strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' {
				return r
			}
			return '_'
		}, name)
		if prev, dup := seen[series]; dup {
			t.Errorf("%s and %s are one Prometheus series, %s", prev, name, series)
		}
		seen[series] = name
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2+len(rules)*(len(policy.Outcomes())+1) {
		t.Errorf("%d metrics; want %d", len(seen), 2+len(rules)*(len(policy.Outcomes())+1))
	}
}
