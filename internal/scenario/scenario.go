// Package scenario is the one table of request scenarios that every runner
// of the plugin must agree on: the filter natively under the SDK's
// proxytest emulator (filter/), the real cors.wasm in the Envoy-emulating
// host (e2e/), and corsctl explain (cmd/corsctl), which decides from the
// policy alone. Each scenario says what the client receives: forwarded or
// answered locally, the status, and every response header.
package scenario

import (
	"slices"
	"strings"
)

// Header is a name and a value.
type Header = [2]string

// Response is an upstream's response, or what the client receives.
type Response struct {
	Status  int // 0 means 200
	Headers []Header
}

// Scenario is one request under one configuration.
type Scenario struct {
	Name   string
	Config string

	Method, Scheme, Authority, Path string
	Headers                         []Header
	Route                           string // Envoy's xds.route_name; "" for none
	// RouteHeaders are the route's response_headers_to_add, each appended
	// (Envoy's default append_action): Envoy adds them to the upstream's
	// response, and to a local reply before the replying filter's headers.
	RouteHeaders []Header

	// Upstream is what the upstream (or a later filter's local reply)
	// answers when the request is forwarded.
	Upstream Response

	// Want is what the client receives; Forwarded false means a local
	// reply from the plugin.
	Forwarded bool
	Want      Response
	// Rule and Verdict are corsctl explain's words for the decision.
	Rule, Verdict string
	// Counter is the metric the request increments, such as
	// "cors.default.preflight_allowed" ("" when not checked); the runners
	// with metrics check that it reads 1 on a fresh plugin.
	Counter string
}

// Configurations.
const (
	Credentialed = `{"allowed_origins":["https://app.example.com","https://*.example.org"],"allow_credentials":true,
		"allowed_methods":["PUT","DELETE"],"allowed_request_headers":["X-CSRF-Token","Content-Type"],
		"exposed_response_headers":["X-Request-Id"],"max_age_seconds":600}`
	Public = `{"allowed_origins":["*"],"allowed_methods":["*"],"allowed_request_headers":["*"]}`
	Rules  = `{"allowed_origins":["https://app.example.com"],"rules":[
		{"name":"admin","match":{"hosts":["admin.example.com"]},"allowed_origins":[],"reject_disallowed_origins":true},
		{"name":"writes","match":{"path_prefixes":["/orders"]},"reject_disallowed_origins":true,"allowed_methods":["PUT"]},
		{"name":"routed","match":{"route_names":["legacy"]},"mode":"report_only"},
		{"name":"forwarding","match":{"paths":["/fwd"]},"forward_denied_preflights":true,"debug":true},
		{"name":"lan","match":{"paths":["/lan"]},"allow_private_network":true},
		{"name":"off","match":{"paths":["/healthz"]},"mode":"off"},
		{"name":"items","match":{"path_regexes":["^/items/[0-9]+$"]},"allowed_methods":["DELETE"]},
		{"name":"rest"}]}`
	Regexes = `{"allowed_origin_regexes":["^https://(app|www)\\.example\\.com(:[0-9]+)?$"],"allowed_methods":["PUT"]}`
	// Candidates: "shadow" decides by its rule and counts what its
	// candidate (no origin at all) would deny; "rolled" enforces its
	// candidate (PUT allowed too) for every origin.
	Candidates = `{"allowed_origins":["https://app.example.com"],"rules":[
		{"name":"shadow","match":{"path_prefixes":["/shadow"]},"candidate":{"allowed_origins":[]}},
		{"name":"rolled","match":{"path_prefixes":["/rolled"]},"candidate":{"allowed_methods":["PUT"]},"candidate_rollout_percent":100}]}`
	// Apps: the exact origins of a browser extension and an app web view.
	Apps = `{"allowed_origins":["chrome-extension://abcdefghijklmnopabcdefghijklmnop","capacitor://localhost"],"allowed_methods":["PUT"]}`
)

const (
	app  = "https://app.example.com"
	evil = "https://evil.example"
)

var (
	varyPreflight = Header{"vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
	varyOrigin    = Header{"vary", "Origin"}
	acao          = Header{"access-control-allow-origin", app}
	acac          = Header{"access-control-allow-credentials", "true"}
	aceh          = Header{"access-control-expose-headers", "x-request-id"}
	denied403     = []Header{{"content-length", "22"}, {"content-type", "text/plain"}}
	rejected403   = []Header{{"content-length", "28"}, {"content-type", "text/plain"}}
)

func get(name, config, path string, headers ...Header) Scenario {
	return Scenario{Name: name, Config: config, Method: "GET", Scheme: "https", Authority: "api.example.com", Path: path, Headers: headers}
}

func preflight(name, config, path, origin, method string, headers ...Header) Scenario {
	s := get(name, config, path, append([]Header{{"origin", origin}, {"access-control-request-method", method}}, headers...)...)
	s.Method = "OPTIONS"
	return s
}

// All is the table.
var All = []Scenario{
	// The request kinds, on a credentialed configuration.
	with(preflight("preflight allowed", Credentialed, "/", app, "PUT", Header{"access-control-request-headers", "x-csrf-token"}),
		false, 204, "default", "ALLOWED", acao, acac, Header{"access-control-allow-methods", "PUT"},
		Header{"access-control-allow-headers", "x-csrf-token"}, Header{"access-control-max-age", "600"}, varyPreflight),
	with(preflight("preflight from a subdomain pattern", Credentialed, "/", "https://a.b.example.org", "DELETE"),
		false, 204, "default", "ALLOWED", Header{"access-control-allow-origin", "https://a.b.example.org"}, acac,
		Header{"access-control-allow-methods", "DELETE"}, Header{"access-control-max-age", "600"}, varyPreflight),
	with(preflight("preflight denied by origin", Credentialed, "/", evil, "PUT"),
		false, 403, "default", "DENIED", append([]Header{varyPreflight}, denied403...)...),
	with(preflight("preflight denied by method", Credentialed, "/", app, "PATCH"),
		false, 403, "default", "DENIED", append([]Header{varyPreflight}, denied403...)...),
	with(preflight("preflight denied by headers", Credentialed, "/", app, "PUT", Header{"access-control-request-headers", "x-other"}),
		false, 403, "default", "DENIED", append([]Header{varyPreflight}, denied403...)...),
	with(preflight("preflight for a safelisted method", Credentialed, "/", app, "GET"),
		false, 204, "default", "ALLOWED", acao, acac, Header{"access-control-max-age", "600"}, varyPreflight),
	up(with(get("actual allowed", Credentialed, "/", Header{"origin", app}),
		true, 200, "default", "ALLOWED", Header{"content-type", "application/json"}, acao, acac, aceh, varyOrigin),
		200, Header{"content-type", "application/json"}),
	with(get("actual denied", Credentialed, "/", Header{"origin", evil}),
		true, 200, "default", "DENIED", varyOrigin),
	with(get("not CORS", Credentialed, "/"),
		true, 200, "default", "ALLOWED", varyOrigin),
	with(get("repeated Origin", Credentialed, "/", Header{"origin", app}, Header{"origin", evil}),
		true, 200, "default", "DENIED", varyOrigin),
	with(get("oversized Origin", Credentialed, "/", Header{"origin", "https://" + strings.Repeat("a", 400) + ".example.org"}),
		true, 200, "default", "DENIED", varyOrigin),

	// The upstream's CORS headers never reach the browser; Vary merges.
	up(with(get("permissive upstream", Credentialed, "/", Header{"origin", evil}),
		true, 200, "default", "DENIED", Header{"x-id", "1"}, varyOrigin),
		200, Header{"Access-Control-Allow-Origin", "*"}, Header{"access-control-allow-credentials", "true"}, Header{"x-id", "1"}),
	up(with(get("upstream Vary and max-age", Credentialed, "/", Header{"origin", app}),
		true, 200, "default", "ALLOWED", Header{"vary", "Accept-Encoding, Origin"}, acao, acac, aceh),
		200, Header{"vary", "Accept-Encoding"}, Header{"access-control-max-age", "86400"}),
	up(with(get("two upstream Vary lines", Credentialed, "/", Header{"origin", app}),
		true, 200, "default", "ALLOWED", Header{"vary", "Accept, Accept-Language, Origin"}, acao, acac, aceh),
		200, Header{"vary", "Accept"}, Header{"vary", "Accept-Language"}),
	up(with(get("a later filter's 401", Credentialed, "/", Header{"origin", app}),
		true, 401, "default", "ALLOWED", Header{"www-authenticate", "Bearer"}, acao, acac, aceh, varyOrigin),
		401, Header{"www-authenticate", "Bearer"}),

	// A public configuration answers with a literal *.
	with(preflight("public preflight", Public, "/", evil, "PATCH", Header{"access-control-request-headers", "x-a,x-b"}),
		false, 204, "default", "ALLOWED", Header{"access-control-allow-origin", "*"}, Header{"access-control-allow-methods", "PATCH"},
		Header{"access-control-allow-headers", "x-a,x-b"}, Header{"vary", "Access-Control-Request-Method, Access-Control-Request-Headers"}),
	with(get("public not CORS", Public, "/"),
		true, 200, "default", "ALLOWED", Header{"access-control-allow-origin", "*"}),

	// Rules.
	with(get("reject a disallowed origin", Rules, "/orders/7", Header{"origin", evil}),
		false, 403, "writes", "DENIED", append([]Header{varyOrigin}, rejected403...)...),
	with(Scenario{Name: "same-origin POST with Origin null", Config: Rules, Method: "POST", Scheme: "https", Authority: "api.example.com",
		Path: "/orders", Headers: []Header{{"origin", "null"}, {"sec-fetch-site", "same-origin"}}},
		true, 200, "writes", "ALLOWED", varyOrigin),
	with(Scenario{Name: "same-origin POST by authority", Config: Rules, Method: "POST", Scheme: "https", Authority: "api.example.com",
		Path: "/orders", Headers: []Header{{"origin", "https://api.example.com"}}},
		true, 200, "writes", "ALLOWED", varyOrigin),
	with(get("empty origin list", Rules, "/", Header{"origin", app}).at("admin.example.com"),
		false, 403, "admin", "DENIED", append([]Header{varyOrigin}, rejected403...)...),
	with(get("host with a trailing dot", Rules, "/", Header{"origin", app}).at("admin.example.com."),
		false, 403, "admin", "DENIED", append([]Header{varyOrigin}, rejected403...)...),
	up(with(get("report_only by route", Rules, "/", Header{"origin", evil}).on("legacy"),
		true, 200, "routed", "DENIED", Header{"access-control-allow-origin", "*"}),
		200, Header{"access-control-allow-origin", "*"}),
	up(with(preflight("forwarded denied preflight", Rules, "/fwd", evil, "PUT"),
		true, 200, "forwarding", "DENIED", Header{"x-cors-debug", "origin not allowed"}, varyPreflight),
		200, Header{"access-control-max-age", "86400"}),
	up(with(preflight("report_only preflight", Rules, "/", evil, "PUT").on("legacy"),
		true, 200, "routed", "DENIED", Header{"access-control-allow-origin", "*"}),
		200, Header{"access-control-allow-origin", "*"}),
	with(preflight("private network access", Rules, "/lan", app, "GET", Header{"access-control-request-private-network", "true"}),
		false, 204, "lan", "ALLOWED", acao, Header{"access-control-allow-private-network", "true"},
		Header{"vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"}),
	up(with(get("mode off", Rules, "/healthz", Header{"origin", evil}),
		true, 200, "off", "UNTOUCHED", Header{"access-control-allow-origin", "*"}),
		200, Header{"access-control-allow-origin", "*"}),
	with(preflight("a path regex selects the rule", Rules, "/items/42", app, "DELETE"),
		false, 204, "items", "ALLOWED", acao, Header{"access-control-allow-methods", "DELETE"}, varyPreflight),
	with(preflight("match.hosts ignores case, a trailing dot and the port", Rules, "/", app, "GET").at("ADMIN.example.com.:443"),
		false, 403, "admin", "DENIED", append([]Header{varyPreflight}, denied403...)...),
	with(Scenario{Name: "OPTIONS without Access-Control-Request-Method", Config: Credentialed, Method: "OPTIONS", Scheme: "https",
		Authority: "api.example.com", Path: "/", Headers: []Header{{"origin", app}}},
		true, 200, "default", "ALLOWED", acao, acac, aceh, varyOrigin),

	// A route that adds CORS headers (response_headers_to_add) meets the
	// filter: on the plugin's own replies and on forwarded responses, only
	// the plugin's CORS headers reach the client.
	routed(with(preflight("a route's ACAO on an allowed preflight", Credentialed, "/", app, "PUT", Header{"access-control-request-headers", "x-csrf-token"}),
		false, 204, "default", "ALLOWED", acao, acac, Header{"access-control-allow-methods", "PUT"},
		Header{"access-control-allow-headers", "x-csrf-token"}, Header{"access-control-max-age", "600"}, varyPreflight, Header{"x-route", "1"}),
		Header{"Access-Control-Allow-Origin", "*"}, Header{"access-control-max-age", "86400"}, Header{"x-route", "1"}),
	routed(with(preflight("a route's ACAO on a denied preflight", Credentialed, "/", evil, "PUT"),
		false, 403, "default", "DENIED", append([]Header{varyPreflight}, denied403...)...),
		Header{"access-control-allow-origin", "*"}),
	routed(with(get("a route's ACAO on a rejected request", Rules, "/orders/7", Header{"origin", evil}),
		false, 403, "writes", "DENIED", append([]Header{varyOrigin}, rejected403...)...),
		Header{"access-control-allow-origin", "*"}, Header{"access-control-allow-credentials", "true"}),
	routed(with(get("a route's ACAO on a forwarded request", Credentialed, "/", Header{"origin", app}),
		true, 200, "default", "ALLOWED", acao, acac, aceh, varyOrigin),
		Header{"access-control-allow-origin", "*"}),

	// Origin regexes, compiled by the plugin's own engine.
	with(preflight("an origin regex with a port", Regexes, "/", "https://www.example.com:8443", "PUT"),
		false, 204, "default", "ALLOWED", Header{"access-control-allow-origin", "https://www.example.com:8443"},
		Header{"access-control-allow-methods", "PUT"}, varyPreflight),
	with(preflight("an origin regex and a suffix attack", Regexes, "/", "https://www.example.com.evil.example", "PUT"),
		false, 403, "default", "DENIED", append([]Header{varyPreflight}, denied403...)...),

	// Candidate policies: the enforced one decides, the other only counts.
	with(get("a candidate in the shadow", Candidates, "/shadow", Header{"origin", app}),
		true, 200, "shadow", "ALLOWED", acao, varyOrigin),
	with(preflight("a candidate rolled out to every origin", Candidates, "/rolled", app, "PUT"),
		false, 204, "rolled", "ALLOWED", acao, Header{"access-control-allow-methods", "PUT"}, varyPreflight),
	with(preflight("a shadowed rule denies a method", Candidates, "/shadow", app, "PUT"),
		false, 403, "shadow", "DENIED", append([]Header{varyPreflight}, denied403...)...),

	// Origins beyond http(s), exact.
	with(preflight("a browser extension's origin", Apps, "/", "chrome-extension://abcdefghijklmnopabcdefghijklmnop", "PUT"),
		false, 204, "default", "ALLOWED", Header{"access-control-allow-origin", "chrome-extension://abcdefghijklmnopabcdefghijklmnop"},
		Header{"access-control-allow-methods", "PUT"}, varyPreflight),
	with(get("an app web view's origin", Apps, "/", Header{"origin", "capacitor://localhost"}),
		true, 200, "default", "ALLOWED", Header{"access-control-allow-origin", "capacitor://localhost"}, varyOrigin),
	with(get("another extension", Apps, "/", Header{"origin", "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba"}),
		true, 200, "default", "DENIED", varyOrigin),
}

// counters are the metrics scenarios increment, by scenario name.
var counters = map[string]string{
	"preflight allowed":                                     "cors.default.preflight_allowed",
	"preflight denied by origin":                            "cors.default.preflight_denied_origin",
	"preflight denied by method":                            "cors.default.preflight_denied_method",
	"preflight denied by headers":                           "cors.default.preflight_denied_headers",
	"actual allowed":                                        "cors.default.actual_allowed",
	"actual denied":                                         "cors.default.actual_denied",
	"not CORS":                                              "cors.default.not_cors",
	"permissive upstream":                                   "cors.default.upstream_cors_overridden",
	"reject a disallowed origin":                            "cors.writes.actual_denied",
	"same-origin POST with Origin null":                     "cors.writes.same_origin",
	"report_only by route":                                  "cors.routed.report_only_divergence",
	"forwarded denied preflight":                            "cors.forwarding.upstream_cors_overridden",
	"private network access":                                "cors.lan.preflight_allowed",
	"mode off":                                              "cors.off.off",
	"a path regex selects the rule":                         "cors.items.preflight_allowed",
	"an origin regex and a suffix attack":                   "cors.default.preflight_denied_origin",
	"match.hosts ignores case, a trailing dot and the port": "cors.admin.preflight_denied_origin",
	"a route's ACAO on an allowed preflight":                "cors.default.upstream_cors_overridden",
	"a route's ACAO on a denied preflight":                  "cors.default.upstream_cors_overridden",
	"a route's ACAO on a rejected request":                  "cors.writes.upstream_cors_overridden",
	"a route's ACAO on a forwarded request":                 "cors.default.upstream_cors_overridden",
	"a candidate in the shadow":                             "cors.shadow.candidate_would_deny",
	"a candidate rolled out to every origin":                "cors.rolled.preflight_allowed",
	"a shadowed rule denies a method":                       "cors.shadow.preflight_denied_method",
	"a browser extension's origin":                          "cors.default.preflight_allowed",
	"another extension":                                     "cors.default.actual_denied",
}

func init() {
	for i := range All {
		All[i].Counter = counters[All[i].Name]
	}
}

func with(s Scenario, forwarded bool, status int, rule, verdict string, headers ...Header) Scenario {
	s.Forwarded, s.Want, s.Rule, s.Verdict = forwarded, Response{Status: status, Headers: headers}, rule, verdict
	return s
}

func up(s Scenario, status int, headers ...Header) Scenario {
	s.Upstream = Response{Status: status, Headers: headers}
	return s
}

// routed puts s on a route whose response_headers_to_add are headers.
func routed(s Scenario, headers ...Header) Scenario { s.RouteHeaders = headers; return s }

func (s Scenario) at(authority string) Scenario { s.Authority = authority; return s }

func (s Scenario) on(route string) Scenario { s.Route = route; return s }

// Equal reports whether two header lists hold the same headers, in any
// order, with names compared case-insensitively.
func Equal(a, b []Header) bool {
	return slices.Equal(normalize(a), normalize(b))
}

func normalize(hs []Header) []Header {
	out := make([]Header, len(hs))
	for i, h := range hs {
		out[i] = Header{strings.ToLower(h[0]), h[1]}
	}
	slices.SortFunc(out, func(x, y Header) int {
		if c := strings.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return strings.Compare(x[1], y[1])
	})
	return out
}
