package main

import (
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/corsfilter/corsfilter/host"
	"github.com/corsfilter/corsfilter/internal/scenario"
)

// TestScenarios runs the shared scenario table natively, the SDK's
// proxytest emulator driving the same stream logic as the plugin. e2e runs
// it through the real cors.wasm and cmd/corsctl through explain: all three
// must agree.
func TestScenarios(t *testing.T) {
	for _, s := range scenario.All {
		t.Run(s.Name, func(t *testing.T) {
			emu := start(t, s.Config)
			if s.Route != "" {
				if err := emu.SetProperty([]string{"xds", "route_name"}, []byte(s.Route)); err != nil {
					t.Fatal(err)
				}
			}
			req := [][2]string{{":method", s.Method}, {":scheme", s.Scheme}, {":authority", s.Authority}, {":path", s.Path}}
			req = append(req, s.Headers...)
			id := emu.InitializeHttpContext()
			action := emu.CallOnRequestHeaders(id, req, true)
			var route []host.HeaderToAdd
			for _, h := range s.RouteHeaders {
				route = append(route, host.HeaderToAdd{Name: h[0], Value: h[1]})
			}
			var forwarded bool
			var status int
			var resp []scenario.Header
			if lr := emu.GetSentLocalResponse(id); lr != nil {
				if action != types.ActionPause {
					t.Errorf("a local reply, but the action is %v", action)
				}
				// The local reply as Envoy builds it, the route's headers
				// first, goes through the response callback too.
				var hs []host.Header
				for _, h := range lr.Headers {
					hs = append(hs, host.Header{Name: h[0], Value: h[1]})
				}
				r := host.RouteLocalReply(int(lr.StatusCode), route, hs, lr.Data)
				status = r.Status
				for _, h := range r.Headers {
					resp = append(resp, scenario.Header{h.Name, h.Value})
				}
			} else {
				forwarded, status = true, s.Upstream.Status
				if status == 0 {
					status = 200
				}
				resp = append(resp, s.Upstream.Headers...)
				if route != nil {
					// The router adds the route's headers first.
					up := host.Response{Status: status}
					for _, h := range s.Upstream.Headers {
						up.Headers = append(up.Headers, host.Header{Name: h[0], Value: h[1]})
					}
					resp = resp[:0]
					for _, h := range host.RouteResponse(up, route).Headers {
						resp = append(resp, scenario.Header{h.Name, h.Value})
					}
				}
			}
			emu.CallOnResponseHeaders(id, resp, true)
			got := emu.GetCurrentResponseHeaders(id)
			if forwarded != s.Forwarded || status != s.Want.Status || !scenario.Equal(got, s.Want.Headers) {
				t.Errorf("got forwarded %v, %d %q\nwant forwarded %v, %d %q", forwarded, status, got, s.Forwarded, s.Want.Status, s.Want.Headers)
			}
			if n, _ := emu.GetCounterMetric(s.Counter); s.Counter != "" && n != 1 {
				t.Errorf("counter %s = %d; want 1", s.Counter, n)
			}
			if faults, _ := emu.GetCounterMetric("cors.internal_fault"); faults != 0 {
				t.Errorf("%d internal faults: %q", faults, emu.GetWarnLogs())
			}
		})
	}
}
