package e2e

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/host"
)

// This file holds the tests of what Envoy does around the plugin that a
// gentler host would hide: repeated headers joined into one, route headers
// on local replies, reconfiguration in a running VM. Each fails when the
// host stops emulating the behaviour (docs/abi.md, "What the test host
// emulates").

// values returns every value of a request header, as the upstream got it.
func values(hs []host.Header, name string) []string {
	var out []string
	for _, kv := range hs {
		if strings.EqualFold(kv.Name, name) {
			out = append(out, kv.Value)
		}
	}
	return out
}

// Test_that_a_joined_Origin_is_denied_and_never_echoed sends two Origin
// lines, which Envoy joins into one value before the plugin reads it, and
// one line that a client joined itself: both are one Origin that is no
// serialized origin, denied whatever the rule allows, and never echoed.
func Test_that_a_joined_Origin_is_denied_and_never_echoed(t *testing.T) {
	const joined = app + "," + evil
	config := `{"allowed_origins":["https://app.example.com","https://evil.example"],"allow_credentials":true,"debug":true}`
	t.Run("two lines, actual request", func(t *testing.T) {
		vm := newVM(t, corsPlugin, config)
		req := actual("GET", app)
		req.Headers = append(req.Headers, host.Header{Name: "Origin", Value: evil})
		var upstream []string
		res, err := vm.RoundTrip(req, func(r host.Request) host.Response {
			upstream = values(r.Headers, "origin")
			return host.Response{Status: 200, Headers: h("access-control-allow-origin", app)}
		})
		if err != nil {
			t.Fatal(err)
		}
		// What Envoy forwards, and what the plugin read: one joined line.
		if !slices.Equal(upstream, []string{joined}) {
			t.Fatalf("origin lines reaching the upstream: got %q; want the one line Envoy joins, %q", upstream, joined)
		}
		checkResult(t, res, 200, true, map[string]string{"vary": "Origin"}, true)
		if logs := strings.Join(vm.Logs(host.LogDebug), "\n"); !strings.Contains(logs, `from origin "`+joined+`"`) {
			t.Errorf("debug logs do not quote the joined origin %q:\n%s", joined, logs)
		}
		checkHealthy(t, vm)
	})
	t.Run("two lines, preflight", func(t *testing.T) {
		vm := newVM(t, corsPlugin, config)
		req := preflight(app, "GET", "")
		req.Headers = append(req.Headers, host.Header{Name: "origin", Value: evil})
		res, err := vm.RoundTrip(req, nil)
		if err != nil {
			t.Fatal(err)
		}
		// One joined value, which no listed origin matches; as two lines it
		// would be "malformed, oversized or repeated Origin header".
		checkResult(t, res, 403, false, map[string]string{"x-cors-debug": "origin not allowed"}, true)
		checkHealthy(t, vm)
	})
	t.Run("one line joined by the client", func(t *testing.T) {
		vm := newVM(t, corsPlugin, config)
		res, err := vm.RoundTrip(preflight(app+", "+evil, "GET", ""), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, res, 403, false, nil, true)
		checkHealthy(t, vm)
	})
}

// Test_that_a_joined_request_header_list_is_one_list sends
// Access-Control-Request-Headers on two lines. Envoy joins them, so the
// plugin reads one comma-separated list: allowed, and echoed as the one
// line it read, when every name is allowed; denied when one is not.
func Test_that_a_joined_request_header_list_is_one_list(t *testing.T) {
	config := `{"allowed_origins":["https://app.example.com"],"allowed_request_headers":["x-token","x-trace"],"allowed_methods":["PUT"]}`
	req := preflight(app, "PUT", "x-token")
	req.Headers = append(req.Headers, host.Header{Name: "Access-Control-Request-Headers", Value: "x-trace"})
	for _, merge := range []bool{true, false} {
		vm := newVM(t, compileCors(t, host.WithHeaderMerging(merge)), config)
		s, err := vm.StartStream(req)
		if err != nil {
			t.Fatal(err)
		}
		lines := values(s.UpstreamRequest().Headers, "access-control-request-headers")
		res, err := s.Finish(nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"x-token", "x-trace"}
		if merge {
			want = []string{"x-token,x-trace"} // what Envoy hands the plugin
		}
		if !slices.Equal(lines, want) {
			t.Fatalf("merging %v: the plugin read %q; want %q", merge, lines, want)
		}
		checkResult(t, res, 204, false, map[string]string{"access-control-allow-headers": "x-token,x-trace"}, false)
		checkHealthy(t, vm)
	}
	vm := newVM(t, corsPlugin, config)
	denied := preflight(app, "PUT", "x-token")
	denied.Headers = append(denied.Headers, host.Header{Name: "access-control-request-headers", Value: "x-other"})
	res, err := vm.RoundTrip(denied, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 403, false, nil, true)
	if n, _ := vm.Metric("cors.default.preflight_denied_headers"); n != 1 {
		t.Errorf("cors.default.preflight_denied_headers = %d; want 1", n)
	}
	checkHealthy(t, vm)
}

// Test_that_streams_end_with_log_then_done_then_delete runs the real
// cors.wasm under Envoy's order of the end of a stream (proxy_on_log
// before proxy_on_done and proxy_on_delete), on local replies, forwarded
// requests and resets, and checks the plugin keeps recycling its streams.
func Test_that_streams_end_with_log_then_done_then_delete(t *testing.T) {
	var calls []string
	plugin := compileCors(t, host.WithCallTrace(func(_ *host.VM, export string, id uint32) {
		if id >= 2 {
			calls = append(calls, export)
		}
	}))
	vm := newVM(t, plugin, credentialed)
	tail := []string{"proxy_on_log", "proxy_on_done", "proxy_on_delete"}
	for i := range 50 {
		calls = nil
		req := []host.Request{preflight(app, "PUT", "x-token"), actual("GET", app), preflight(evil, "PUT", "")}[i%3]
		res, err := vm.RoundTrip(req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status == 0 || len(calls) < 3 || !slices.Equal(calls[len(calls)-3:], tail) {
			t.Fatalf("stream %d: calls %v; want them to end with %v", i, calls, tail)
		}
	}
	calls = nil
	s, err := vm.StartStream(actual("GET", app))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, append([]string{"proxy_on_context_create", "proxy_on_request_headers"}, tail...)) {
		t.Fatalf("reset stream: calls %v", calls)
	}
	if n, _ := vm.Metric("cors.default.preflight_allowed"); n != 17 {
		t.Errorf("cors.default.preflight_allowed = %d; want 17", n)
	}
	checkHealthy(t, vm)
}

// corsHeaders returns the Access-Control-* headers of a result, sorted.
func corsHeaders(res host.Result) []string {
	var out []string
	for _, kv := range res.Headers {
		if strings.HasPrefix(kv.Name, "access-control-") {
			out = append(out, kv.Name+": "+kv.Value)
		}
	}
	slices.Sort(out)
	return out
}

// Test_that_only_the_plugins_own_CORS_headers_reach_the_client_on_its_local_replies
// runs the real cors.wasm on a route whose response_headers_to_add hold
// Access-Control-Allow-Origin: * (and more). Envoy applies them to the
// plugin's own 204 and 403 before the plugin's headers, joining the inline
// ones; the plugin's response callback must leave exactly its own CORS
// headers, whatever the route's append_action and whether lines are joined.
func Test_that_only_the_plugins_own_CORS_headers_reach_the_client_on_its_local_replies(t *testing.T) {
	config := `{"allowed_origins":["https://app.example.com"],"allow_credentials":true,"allowed_methods":["PUT"],
		"allowed_request_headers":["*"],"max_age_seconds":600,"rules":[
		{"name":"writes","match":{"path_prefixes":["/orders"]},"reject_disallowed_origins":true},
		{"name":"api"}]}`
	longACRH := strings.TrimSuffix(strings.Repeat("x-a-rather-long-header-name-", 1), "-")
	for i := range 150 {
		longACRH += ",x-header-" + strings.Repeat("n", 10) + string(rune('a'+i%26)) + strings.Repeat("z", i%7)
	}
	allowed := []string{
		"access-control-allow-credentials: true",
		"access-control-allow-headers: x-token",
		"access-control-allow-methods: PUT",
		"access-control-allow-origin: " + app,
		"access-control-max-age: 600",
	}
	type check struct {
		desc   string
		req    host.Request
		status int
		want   []string
	}
	checks := []check{
		{"allowed preflight", preflight(app, "PUT", "x-token"), 204, allowed},
		{"allowed preflight echoing a long header list", preflight(app, "PUT", longACRH), 204, []string{
			"access-control-allow-credentials: true",
			"access-control-allow-headers: " + longACRH,
			"access-control-allow-methods: PUT",
			"access-control-allow-origin: " + app,
			"access-control-max-age: 600",
		}},
		{"denied preflight", preflight(evil, "PUT", ""), 403, nil},
		{"rejected actual request", func() host.Request { r := actual("POST", evil); r.Path = "/orders/1"; return r }(), 403, nil},
	}
	routes := map[string][]host.HeaderToAdd{
		"append": {{Name: "Access-Control-Allow-Origin", Value: "*"}, {Name: "access-control-max-age", Value: "86400"},
			{Name: "Access-Control-Allow-Headers", Value: "*"}, {Name: "Access-Control-Expose-Headers", Value: "x-secret"}},
		"overwrite":     {{Name: "access-control-allow-origin", Value: "*", Action: host.OverwriteIfExistsOrAdd}},
		"add if absent": {{Name: "access-control-allow-origin", Value: "*", Action: host.AddIfAbsent}},
	}
	for _, merge := range []bool{true, false} {
		vm := newVM(t, compileCors(t, host.WithHeaderMerging(merge)), config)
		for name, route := range routes {
			for _, c := range checks {
				for range 3 { // streams are recycled: the second use of a stream must hold too
					req := c.req
					req.ResponseHeadersToAdd = route
					res, err := vm.RoundTrip(req, func(host.Request) host.Response {
						t.Fatalf("%s: reached the upstream", c.desc)
						return host.Response{}
					})
					if err != nil {
						t.Fatal(err)
					}
					if got := corsHeaders(res); res.Status != c.status || !res.LocalReply || !slices.Equal(got, c.want) {
						t.Fatalf("merging %v, route %s, %s: got %d %q; want the plugin's own %d %q",
							merge, name, c.desc, res.Status, got, c.status, c.want)
					}
				}
			}
		}
		if n, _ := vm.Metric("cors.api.upstream_cors_overridden"); n == 0 {
			t.Errorf("merging %v: cors.api.upstream_cors_overridden = 0; want the route's headers counted", merge)
		}
		checkHealthy(t, vm)
	}
}

// Test_that_route_headers_on_other_responses_meet_the_same_filter checks
// the other responses a route's Access-Control-Allow-Origin: * can reach:
// a forwarded request's (the router adds it; the plugin owns the
// response's CORS headers), a later filter's 401 (likewise), and the local
// reply of a filter placed before the plugin, which the plugin never sees:
// there the route's header reaches the client, as it does in Envoy.
func Test_that_route_headers_on_other_responses_meet_the_same_filter(t *testing.T) {
	vm := newVM(t, corsPlugin, credentialed)
	route := []host.HeaderToAdd{{Name: "access-control-allow-origin", Value: "*"}}
	want := []string{"access-control-allow-credentials: true", "access-control-allow-origin: " + app, "access-control-expose-headers: x-request-id"}
	for _, status := range []int{200, 401} {
		req := actual("GET", app)
		req.ResponseHeadersToAdd = route
		res, err := vm.RoundTrip(req, func(host.Request) host.Response { return host.Response{Status: status} })
		if err != nil {
			t.Fatal(err)
		}
		if got := corsHeaders(res); res.Status != status || !slices.Equal(got, want) {
			t.Errorf("forwarded, %d: got %d %q; want %q", status, res.Status, got, want)
		}
	}
	var seen []string
	plugin := compileCors(t, host.WithCallTrace(func(_ *host.VM, export string, id uint32) {
		if id >= 2 {
			seen = append(seen, export)
		}
	}))
	vm = newVM(t, plugin, credentialed)
	req := preflight(app, "PUT", "x-token")
	req.ResponseHeadersToAdd = route
	req.EarlierReply = &host.Response{Status: 403, Body: []byte("RBAC: access denied")}
	res, err := vm.RoundTrip(req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := corsHeaders(res); res.Status != 403 || res.LocalReply || !slices.Equal(got, []string{"access-control-allow-origin: *"}) {
		t.Errorf("an earlier filter's reply: got %d %q; want the route's header, untouched", res.Status, got)
	}
	if slices.Contains(seen, "proxy_on_request_headers") || slices.Contains(seen, "proxy_on_response_headers") {
		t.Errorf("an earlier filter's reply reached the plugin's callbacks: %v", seen)
	}
	if m := vm.Metrics(); m["cors.default.preflight_allowed"]+m["cors.unmatched"] != 0 {
		t.Errorf("the plugin decided on a stream it never saw: %v", m)
	}
	checkHealthy(t, vm)
}

// Test_that_a_configuration_update_applies_in_the_running_VM updates the
// real cors.wasm's configuration under traffic, as Envoy does (a canary,
// then a new root context in the same VM): streams started before the
// update end under the policy they started with, streams after it follow
// the new one, the counters of rules both configurations name count on,
// and the old root context retires once its last stream is done.
func Test_that_a_configuration_update_applies_in_the_running_VM(t *testing.T) {
	const (
		before = `{"allowed_origins":["https://app.example.com"],"rules":[{"name":"api"}]}`
		after  = `{"allowed_origins":["https://evil.example"],"rules":[{"name":"api"},{"name":"extra","match":{"paths":["/never"]}}]}`
	)
	var retired []uint32
	plugin := compileCors(t, host.WithCallTrace(func(_ *host.VM, export string, id uint32) {
		if export == "proxy_on_delete" && id == 1 {
			retired = append(retired, id)
		}
	}))
	vm := newVM(t, plugin, before)
	acao := func(res host.Result) string { v, _ := res.Header("access-control-allow-origin"); return v }
	// Streams in flight across the update, each answered after it.
	var old []*host.Stream
	for range 8 {
		s, err := vm.StartStream(actual("GET", app))
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, s)
	}
	preOld, err := vm.StartStream(preflight(app, "GET", ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.Reconfigure([]byte(after)); err != nil {
		t.Fatalf("Reconfigure: %v; critical logs %q", err, vm.Logs(host.LogCritical))
	}
	if got := vm.RootContexts(); len(got) != 2 {
		t.Fatalf("root contexts with streams in flight: %v; want the old and the new", got)
	}
	for i, s := range old {
		// New traffic between the old streams' phases, under the new policy.
		res, err := vm.RoundTrip(actual("GET", evil), nil)
		if err != nil {
			t.Fatal(err)
		}
		if acao(res) != evil {
			t.Fatalf("a new stream: ACAO %q; want the new policy's %q", acao(res), evil)
		}
		if len(retired) != 0 {
			t.Fatalf("the old root context retired with %d of its streams in flight", len(old)-i+1)
		}
		res, err = s.Finish(&host.Response{Status: 200})
		if err != nil {
			t.Fatal(err)
		}
		if s.RootID() != 1 || acao(res) != app {
			t.Fatalf("an old stream (root %d): ACAO %q; want the old policy's %q", s.RootID(), acao(res), app)
		}
	}
	res, err := preOld.Finish(nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 204 || acao(res) != app {
		t.Fatalf("an old preflight: got %d, ACAO %q; want 204 from the old policy", res.Status, acao(res))
	}
	if !slices.Equal(retired, []uint32{1}) || len(vm.RootContexts()) != 1 {
		t.Fatalf("after the old streams: retired %v, root contexts %v; want root 1 retired", retired, vm.RootContexts())
	}
	// Counters of rules both configurations name count on; the new rule's
	// are defined.
	m := vm.Metrics()
	if m["cors.api.actual_allowed"] != 16 || m["cors.api.preflight_allowed"] != 1 {
		t.Errorf("cors.api counters: %d actual, %d preflight; want 16 (8 old, 8 new) and 1", m["cors.api.actual_allowed"], m["cors.api.preflight_allowed"])
	}
	if _, ok := m["cors.extra.actual_allowed"]; !ok {
		t.Errorf("the new rule's counters are not defined: %v", m)
	}
	if n := len(vm.Logs(host.LogInfo)); n < 2 {
		t.Errorf("%d info lines; want a start line from each configuration", n)
	}
	// Many updates under traffic: the VM keeps one root context, and goes on.
	for i := range 20 {
		config := []string{before, after}[i%2]
		s, err := vm.StartStream(actual("GET", app))
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.Reconfigure([]byte(config)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Finish(nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := vm.RootContexts(); len(got) != 1 || vm.Reconfigurations() != 21 {
		t.Errorf("after 21 updates: root contexts %v, %d updates", got, vm.Reconfigurations())
	}
	checkHealthy(t, vm)
}

// Test_that_a_refused_update_leaves_the_old_policy_serving sends an
// invalid configuration to a running VM: the canary refuses it, as Envoy's
// does, so no root context is created in the VM, the update is rejected
// with the plugin's reasons in the log, and traffic, in flight and new,
// goes on under the old policy.
func Test_that_a_refused_update_leaves_the_old_policy_serving(t *testing.T) {
	var inVM []string
	var vm *host.VM
	plugin := compileCors(t, host.WithCallTrace(func(v *host.VM, export string, id uint32) {
		if v == vm && id == 3 {
			inVM = append(inVM, export)
		}
	}))
	vm = newVM(t, plugin, credentialed)
	inFlight, err := vm.StartStream(actual("GET", app))
	if err != nil {
		t.Fatal(err)
	}
	vm.ResetLogs()
	err = vm.Reconfigure([]byte(`{"allowed_origins":["*"],"allow_credentials":true}`))
	if !errors.Is(err, host.ErrConfigRefused) {
		t.Fatalf("Reconfigure(bad): %v; want ErrConfigRefused", err)
	}
	if critical := strings.Join(vm.Logs(host.LogCritical), "\n"); !strings.Contains(critical, "cors: invalid plugin configuration") || !strings.Contains(critical, "allow_credentials") {
		t.Errorf("critical logs do not give the reasons:\n%s", critical)
	}
	if vm.RootID() != 1 || vm.Reconfigurations() != 0 || len(inVM) != 0 {
		t.Errorf("after a refused update: root %d, %d updates, calls on a new root %v; want the VM untouched", vm.RootID(), vm.Reconfigurations(), inVM)
	}
	res, err := inFlight.Finish(nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 200, true, map[string]string{"access-control-allow-origin": app, "access-control-allow-credentials": "true"}, false)
	res, err = vm.RoundTrip(preflight(evil, "PUT", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 403, false, nil, true)
	checkHealthy(t, vm)
}

// Test_that_the_start_log_names_the_ABI_and_Go_versions checks what an
// operator reads first when a plugin misbehaves on some Envoy: the ABI
// version Envoy binds the module with and the Go toolchain that built it
// (docs/compatibility.md).
func Test_that_the_start_log_names_the_ABI_and_Go_versions(t *testing.T) {
	vm := newVM(t, corsPlugin, credentialed)
	var line string
	for _, l := range vm.Logs(host.LogInfo) {
		if strings.HasPrefix(l, "cors: plugin started (") {
			line = l
		}
	}
	const want = "cors: plugin started (proxy-wasm ABI 0.2.0, built with go1."
	if !strings.HasPrefix(line, want) || !strings.Contains(line, ", public suffix list ") {
		t.Fatalf("start line %q; want it to begin %q", line, want)
	}
	t.Log(line[:strings.Index(line, ")")+1])
}
