package importer_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/internal/importer"
	"github.com/corsfilter/corsfilter/policy"
	istio "istio.io/api/networking/v1alpha3"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// request is one browser request of the round trip.
type request struct {
	origin, path, method, acrm string
	acrh                       []string
}

// verdict is what the browser makes of the answer: allowed, denied,
// not_cors, or untouched (no CORS handling on the route at all).
func ours(t *testing.T, p *policy.Policy, r request) string {
	t.Helper()
	req := &policy.Request{}
	req.AddHeader(":method", r.method)
	req.AddHeader(":scheme", "https")
	req.AddHeader(":authority", "api.shop.example.com")
	req.AddHeader(":path", r.path)
	if r.origin != "" {
		req.AddHeader("origin", r.origin)
	}
	if r.acrm != "" {
		req.AddHeader("access-control-request-method", r.acrm)
	}
	if len(r.acrh) > 0 {
		req.AddHeader("access-control-request-headers", strings.Join(r.acrh, ","))
	}
	d := p.Decide(req)
	switch {
	case d.Outcome == policy.OutcomeUnmatched || d.Outcome == policy.OutcomeOff:
		return "untouched"
	case d.Outcome == policy.OutcomeNotCORS || d.Outcome == policy.OutcomeSameOrigin:
		return "not_cors"
	case d.Outcome.Denied():
		return "denied"
	}
	return "allowed"
}

// peerCors is a peer's CORS settings for one route, as its documentation
// defines them; originOK applies the peer's own origin matching.
type peerCors struct {
	originOK func(string) bool
	methods  []string
	headers  []string
}

// browser applies the Fetch standard's CORS checks to a peer's answer:
// the peer sends its allow lists, and the browser compares.
func (c *peerCors) browser(r request) string {
	if c == nil {
		return "untouched"
	}
	if r.origin == "" {
		return "not_cors"
	}
	if !c.originOK(r.origin) {
		return "denied"
	}
	if r.acrm == "" {
		return "allowed"
	}
	if !slices.Contains([]string{"GET", "HEAD", "POST"}, r.acrm) && !slices.Contains(c.methods, r.acrm) && !slices.Contains(c.methods, "*") {
		return "denied"
	}
	for _, h := range r.acrh {
		if !slices.ContainsFunc(c.headers, func(a string) bool { return strings.EqualFold(a, h) || a == "*" }) {
			return "denied"
		}
	}
	return "allowed"
}

// istioPeer: Envoy's CORS filter as Istio configures it. The first HTTP
// route that matches takes the request; an origin matches an exact string
// ("*" matches all), a prefix, or an RE2 regex over the whole Origin.
func istioPeer(t *testing.T, vs *istio.VirtualService, path string) *peerCors {
	for _, route := range vs.GetHttp() {
		matched := len(route.GetMatch()) == 0
		for _, m := range route.GetMatch() {
			switch u := m.GetUri().GetMatchType().(type) {
			case *istio.StringMatch_Exact:
				matched = matched || path == u.Exact
			case *istio.StringMatch_Prefix:
				matched = matched || strings.HasPrefix(path, u.Prefix)
			}
		}
		if !matched {
			continue
		}
		cp := route.GetCorsPolicy()
		if cp == nil {
			return nil
		}
		return &peerCors{
			originOK: func(o string) bool {
				for _, m := range cp.GetAllowOrigins() {
					switch v := m.GetMatchType().(type) {
					case *istio.StringMatch_Exact:
						if v.Exact == o || v.Exact == "*" {
							return true
						}
					case *istio.StringMatch_Prefix:
						if strings.HasPrefix(o, v.Prefix) {
							return true
						}
					case *istio.StringMatch_Regex:
						if regexp.MustCompile("^(?:" + v.Regex + ")$").MatchString(o) {
							return true
						}
					}
				}
				return false
			},
			methods: cp.GetAllowMethods(), headers: cp.GetAllowHeaders(),
		}
	}
	return nil
}

// gatewayPeer: Gateway API's HTTPRoute semantics. The most specific match
// takes the request (an exact path, then the longest prefix, matched by
// whole path elements); an origin matches "*", or scheme://host[:port]
// with ports defaulted, where a leading "*" in the host is greedy to the
// left.
func gatewayPeer(t *testing.T, route *gatewayv1.HTTPRoute, path string) *peerCors {
	best, bestRank := -1, -1
	for i, rr := range route.Spec.Rules {
		for _, m := range rr.Matches {
			v, typ := *m.Path.Value, *m.Path.Type
			rank := -1
			switch typ {
			case gatewayv1.PathMatchExact:
				if path == v {
					rank = 1 << 20
				}
			case gatewayv1.PathMatchPathPrefix:
				p := strings.TrimSuffix(v, "/")
				if path == p || strings.HasPrefix(path, p+"/") {
					rank = len(p)
				}
			}
			if rank > bestRank {
				best, bestRank = i, rank
			}
		}
	}
	if best < 0 {
		return nil
	}
	for _, f := range route.Spec.Rules[best].Filters {
		if f.Type != gatewayv1.HTTPRouteFilterCORS {
			continue
		}
		cf := f.CORS
		pc := &peerCors{originOK: func(o string) bool {
			for _, a := range cf.AllowOrigins {
				s := string(a)
				if s == "*" || s == o {
					return true
				}
				scheme, host, _ := strings.Cut(s, "://")
				oscheme, ohost, _ := strings.Cut(o, "://")
				if base, ok := strings.CutPrefix(host, "*"); ok && scheme == oscheme && !strings.Contains(ohost, ":") &&
					strings.HasSuffix(ohost, base) && len(ohost) > len(base) {
					return true
				}
			}
			return false
		}}
		for _, m := range cf.AllowMethods {
			pc.methods = append(pc.methods, string(m))
		}
		for _, h := range cf.AllowHeaders {
			pc.headers = append(pc.headers, string(h))
		}
		return pc
	}
	return nil
}

// requests crosses origins (listed, look-alikes, other schemes, depths),
// paths (each route, boundaries) and kinds (simple, preflights).
func requests() []request {
	origins := []string{"", "https://shop.example.com", "https://admin.shop.example.com", "https://pr-12.preview.shop.example.com",
		"https://a.b.preview.shop.example.com", "https://shop.example.com.evil.example", "https://evilshop.example.com", "http://shop.example.com",
		"https://x.partners.shop.example.com", "https://a.b.partners.shop.example.com", "https://partners.shop.example.com",
		"https://x.partners.shop.example.com:8443", "https://anyone.example.net", "null"}
	paths := []string{"/api/app/cart", "/api/app", "/api/appx", "/api/public/items", "/api/public", "/api/public/health", "/other"}
	var out []request
	for _, o := range origins {
		for _, p := range paths {
			out = append(out,
				request{origin: o, path: p, method: "GET"},
				request{origin: o, path: p, method: "OPTIONS", acrm: "PUT", acrh: []string{"content-type"}},
				request{origin: o, path: p, method: "OPTIONS", acrm: "DELETE", acrh: []string{"x-csrf-token"}},
				request{origin: o, path: p, method: "OPTIONS", acrm: "PATCH"},
				request{origin: o, path: p, method: "OPTIONS", acrm: "GET", acrh: []string{"x-debug"}},
			)
		}
	}
	return out
}

func importFile(t *testing.T, path string) (*importer.Result, *policy.Policy, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := importer.Import([][]byte{js})
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(res.Config.JSON())
	if err != nil {
		t.Fatalf("the import of %s is refused: %v\n%s", path, err, res.Config.JSON())
	}
	return res, p, js
}

// TestRoundTripIstio: the import of examples/istio/virtualservice.yaml
// gives every request the verdict Envoy's CORS filter gives it under
// Istio's configuration. No reported change alters a verdict of these
// requests (the regex is rewritten with the same meaning).
func TestRoundTripIstio(t *testing.T) {
	res, p, js := importFile(t, "../../examples/istio/virtualservice.yaml")
	var obj struct{ Spec json.RawMessage }
	if err := json.Unmarshal(js, &obj); err != nil {
		t.Fatal(err)
	}
	var vs istio.VirtualService
	spec := strings.Replace(string(obj.Spec), `"10m"`, `"600s"`, 1)
	spec = strings.Replace(spec, `"1h"`, `"3600s"`, 1)
	if err := (protojsonUnmarshal)([]byte(spec), &vs); err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || !strings.Contains(res.Changes[0].Msg, "regex") {
		t.Errorf("changes: %v", res.Changes)
	}
	compare(t, p, func(r request) string { return istioPeer(t, &vs, r.path).browser(r) })
}

// TestRoundTripGateway: the same for examples/gateway-api/httproute.yaml
// under Gateway API's documented semantics.
func TestRoundTripGateway(t *testing.T) {
	_, p, js := importFile(t, "../../examples/gateway-api/httproute.yaml")
	var route gatewayv1.HTTPRoute
	if err := yaml.UnmarshalStrict(js, &route); err != nil {
		t.Fatal(err)
	}
	compare(t, p, func(r request) string { return gatewayPeer(t, &route, r.path).browser(r) })
}

func compare(t *testing.T, p *policy.Policy, peer func(request) string) {
	t.Helper()
	counts := map[string]int{}
	for _, r := range requests() {
		want, got := peer(r), ours(t, p, r)
		counts[want]++
		if got != want {
			t.Errorf("%s %s from %q (ACRM %q, ACRH %v): the peer's verdict is %s, the import's %s", r.method, r.path, r.origin, r.acrm, r.acrh, want, got)
		}
	}
	t.Logf("verdicts: %v", counts)
	// The requests must exercise every verdict, or the test proves little.
	for _, v := range []string{"allowed", "denied", "not_cors", "untouched"} {
		if counts[v] == 0 {
			t.Errorf("no request gets %s: %v", v, counts)
		}
	}
}
