package e2e

import (
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
	plugin := compileCors(t, host.WithCallTrace(func(export string, id uint32) {
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
