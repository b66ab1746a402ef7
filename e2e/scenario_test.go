package e2e

import (
	"testing"

	"github.com/corsfilter/corsfilter/host"
	"github.com/corsfilter/corsfilter/internal/scenario"
)

// TestScenarios runs the shared scenario table through the real cors.wasm
// in the Envoy-emulating host. filter/ runs the same table natively and
// cmd/corsctl through explain: all three must agree.
func TestScenarios(t *testing.T) {
	requireWasm(t)
	for _, s := range scenario.All {
		t.Run(s.Name, func(t *testing.T) {
			vm := newVM(t, corsPlugin, s.Config)
			req := host.Request{Method: s.Method, Scheme: s.Scheme, Authority: s.Authority, Path: s.Path}
			for _, h := range s.Headers {
				req.Headers = append(req.Headers, host.Header{Name: h[0], Value: h[1]})
			}
			if s.Route != "" {
				req.Properties = map[string]string{"xds.route_name": s.Route}
			}
			for _, h := range s.RouteHeaders {
				req.ResponseHeadersToAdd = append(req.ResponseHeadersToAdd, host.HeaderToAdd{Name: h[0], Value: h[1]})
			}
			resp := host.Response{Status: s.Upstream.Status}
			for _, h := range s.Upstream.Headers {
				resp.Headers = append(resp.Headers, host.Header{Name: h[0], Value: h[1]})
			}
			res, err := vm.RoundTrip(req, func(host.Request) host.Response { return resp })
			if err != nil {
				t.Fatal(err)
			}
			var got []scenario.Header
			for _, h := range res.Headers {
				got = append(got, scenario.Header{h.Name, h.Value})
			}
			status := res.Status
			if status == 0 {
				status = 200
			}
			if res.Forwarded != s.Forwarded || status != s.Want.Status || !scenario.Equal(got, s.Want.Headers) {
				t.Errorf("got forwarded %v, %d %q\nwant forwarded %v, %d %q", res.Forwarded, status, got, s.Forwarded, s.Want.Status, s.Want.Headers)
			}
			if n, _ := vm.Metric(s.Counter); s.Counter != "" && n != 1 {
				t.Errorf("counter %s = %d; want 1", s.Counter, n)
			}
			checkHealthy(t, vm)
		})
	}
}
