package main

import (
	"testing"

	"github.com/corsfilter/corsfilter/internal/scenario"
	"github.com/corsfilter/corsfilter/policy"
)

// TestScenarios runs the shared scenario table through explain, which
// decides from the policy alone; e2e runs it through the real cors.wasm and
// filter/ natively, and all three must agree.
func TestScenarios(t *testing.T) {
	for _, s := range scenario.All {
		t.Run(s.Name, func(t *testing.T) {
			p, err := policy.Parse([]byte(s.Config))
			if err != nil {
				t.Fatal(err)
			}
			f := explainFlags{method: s.Method, scheme: s.Scheme, authority: s.Authority, path: s.Path, route: s.Route,
				upstreamStatus: s.Upstream.Status}
			if f.upstreamStatus == 0 {
				f.upstreamStatus = 200
			}
			for _, h := range s.Headers {
				f.headers = append(f.headers, policy.Header{Name: h[0], Value: h[1]})
			}
			for _, h := range s.Upstream.Headers {
				f.upstreamHeaders = append(f.upstreamHeaders, policy.Header{Name: h[0], Value: h[1]})
			}
			for _, h := range s.RouteHeaders {
				f.routeHeaders = append(f.routeHeaders, policy.Header{Name: h[0], Value: h[1]})
			}
			d := p.Decide(f.request())
			e := effect(&f, &d)
			got := make([]scenario.Header, len(e.Headers))
			copy(got, e.Headers)
			if e.Forwarded != s.Forwarded || e.Status != s.Want.Status || !scenario.Equal(got, s.Want.Headers) ||
				e.Rule != s.Rule || e.Verdict != s.Verdict {
				t.Errorf("got %+v\nwant forwarded %v, %d %q, rule %s, verdict %s", e, s.Forwarded, s.Want.Status, s.Want.Headers, s.Rule, s.Verdict)
			}
		})
	}
}
