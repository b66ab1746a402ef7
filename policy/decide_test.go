package policy_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/corsfilter/corsfilter/policy"
)

const (
	cfgSimple = `{"allowed_origins":["https://app.example.com"]}`
	cfgAny    = `{"allowed_origins":["*"],"allowed_methods":["*"],"allowed_request_headers":["*"],"exposed_response_headers":["*"]}`
	cfgCreds  = `{"allowed_origins":["https://app.example.com","https://*.example.org","http://localhost:*"],
		"allow_credentials":true,"allowed_methods":["PUT","DELETE"],"allowed_request_headers":["X-CSRF-Token","Content-Type"],
		"exposed_response_headers":["X-Request-Id","X-Total"],"max_age_seconds":600}`
	cfgCredsWild = `{"allowed_origins":["https://app.example.com"],"allow_credentials":true,"allowed_methods":["*"],"allowed_request_headers":["*"]}`
	cfgCredsAuth = `{"allowed_origins":["https://app.example.com"],"allow_credentials":true,"allowed_request_headers":["*","Authorization"]}`
	cfgReject    = `{"allowed_origins":["https://app.example.com"],"reject_disallowed_origins":true}`
	cfgPNA       = `{"allowed_origins":["https://app.example.com"],"allow_private_network":true}`
	cfgOptions   = `{"allowed_origins":["https://app.example.com"],"preflight_status":200,"forward_denied_preflights":true,"debug":true}`
	cfgDebug     = `{"allowed_origins":["https://app.example.com"],"debug":true}`
	cfgRegex     = `{"allowed_origin_regexes":["^https://(app|www)\\.example\\.com$"]}`
	cfgReport    = `{"allowed_origins":["https://app.example.com"],"mode":"report_only"}`
	cfgRules     = `{"allowed_origins":["https://app.example.com"],"allow_credentials":true,"rules":[
		{"name":"off","match":{"paths":["/healthz"]},"mode":"off"},
		{"name":"public","match":{"path_prefixes":["/public/"],"methods":["GET","HEAD"]},"allowed_origins":["*"],"allow_credentials":false},
		{"name":"hosts","match":{"hosts":["API.example.com","*.tenant.example.com"]},"allowed_methods":["PATCH"]},
		{"name":"regex","match":{"path_regexes":["^/v[0-9]+/orders$"]},"allowed_methods":["PUT"]},
		{"name":"route","match":{"route_names":["admin-route"]},"allowed_origins":["https://admin.example.com"]},
		{"name":"writes","match":{"methods":["DELETE"]},"allowed_methods":["DELETE"]}]}`
)

func preflight(origin, method string, acrh ...string) policy.Request {
	return policy.Request{Method: "OPTIONS", Scheme: "https", Authority: "api.example.com", Path: "/", Origin: []string{origin}, ACRM: []string{method}, ACRH: acrh}
}

func actual(method, origin string) policy.Request {
	return policy.Request{Method: method, Scheme: "https", Authority: "api.example.com", Path: "/", Origin: []string{origin}}
}

func h(pairs ...string) []policy.Header {
	var out []policy.Header
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, policy.Header{Name: pairs[i], Value: pairs[i+1]})
	}
	return out
}

const varyPreflight = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

type want struct {
	kind    policy.Kind
	action  policy.Action
	outcome policy.Outcome
	status  int
	headers []policy.Header
	vary    string
	rule    string
}

var decideCases = []struct {
	desc string
	cfg  string
	req  policy.Request
	want want
}{
	// Classification.
	{"no origin is not CORS", cfgSimple, policy.Request{Method: "GET", Path: "/"},
		want{policy.NotCORS, policy.Forward, policy.OutcomeNotCORS, 0, nil, "Origin", "default"}},
	{"OPTIONS without ACRM is an actual request", cfgSimple, policy.Request{Method: "OPTIONS", Origin: []string{"https://app.example.com"}},
		want{policy.Actual, policy.Forward, policy.OutcomeActualAllowed, 0, h("access-control-allow-origin", "https://app.example.com"), "Origin", "default"}},
	{"OPTIONS without Origin is not CORS", cfgSimple, policy.Request{Method: "OPTIONS", ACRM: []string{"PUT"}},
		want{policy.NotCORS, policy.Forward, policy.OutcomeNotCORS, 0, nil, "Origin", "default"}},

	{"static * rule answers every response", cfgAny, policy.Request{Method: "GET", Path: "/"},
		want{policy.NotCORS, policy.Forward, policy.OutcomeNotCORS, 0, h("access-control-allow-origin", "*", "access-control-expose-headers", "*"), "", "default"}},

	// Allowed preflights.
	{"preflight for a safelisted method", cfgSimple, preflight("https://app.example.com", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h("access-control-allow-origin", "https://app.example.com"), varyPreflight, "default"}},
	{"credentialed preflight", cfgCreds, preflight("https://app.example.com", "PUT", "content-type,x-csrf-token"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
			"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true",
			"access-control-allow-methods", "PUT", "access-control-allow-headers", "content-type,x-csrf-token",
			"access-control-max-age", "600"), varyPreflight, "default"}},
	{"subdomain pattern, one label", cfgCreds, preflight("https://eu.example.org", "DELETE"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
			"access-control-allow-origin", "https://eu.example.org", "access-control-allow-credentials", "true",
			"access-control-allow-methods", "DELETE", "access-control-max-age", "600"), varyPreflight, "default"}},
	{"subdomain pattern, two labels", cfgCreds, preflight("https://a.b.example.org", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
			"access-control-allow-origin", "https://a.b.example.org", "access-control-allow-credentials", "true",
			"access-control-max-age", "600"), varyPreflight, "default"}},
	{"port wildcard", cfgCreds, preflight("http://localhost:5173", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
			"access-control-allow-origin", "http://localhost:5173", "access-control-allow-credentials", "true",
			"access-control-max-age", "600"), varyPreflight, "default"}},
	{"ACRH tolerant of case, spaces, empty elements and split lines", cfgCreds, preflight("https://app.example.com", "PUT", "X-CSRF-Token , ", ",Content-Type"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
			"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true",
			"access-control-allow-methods", "PUT", "access-control-allow-headers", "x-csrf-token,content-type",
			"access-control-max-age", "600"), varyPreflight, "default"}},
	{"any origin without credentials answers a literal *", cfgAny, preflight("https://anyone.example", "PATCH", "x-custom"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
			"access-control-allow-origin", "*", "access-control-allow-methods", "PATCH", "access-control-allow-headers", "x-custom"),
			"Access-Control-Request-Method, Access-Control-Request-Headers", "default"}},
	{"credentialed * methods and headers echo the request", cfgCredsWild, preflight("https://app.example.com", "PATCH", "x-a,x-b"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
			"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true",
			"access-control-allow-methods", "PATCH", "access-control-allow-headers", "x-a,x-b"), varyPreflight, "default"}},
	{"Authorization listed by name beside *", cfgCredsAuth, preflight("https://app.example.com", "GET", "authorization,x-a"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
			"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true",
			"access-control-allow-headers", "authorization,x-a"), varyPreflight, "default"}},
	{"private network access allowed", cfgPNA, func() policy.Request {
		r := preflight("https://app.example.com", "GET")
		r.ACRPN = []string{"true"}
		return r
	}(), want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
		"access-control-allow-origin", "https://app.example.com", "access-control-allow-private-network", "true"),
		varyPreflight + ", Access-Control-Request-Private-Network", "default"}},
	// The most headers a decision carries (see maxHeaders).
	{"every preflight header", `{"allowed_origins":["https://app.example.com"],"allow_credentials":true,"allow_private_network":true,
		"allowed_methods":["PUT"],"allowed_request_headers":["x-a"],"max_age_seconds":60}`, func() policy.Request {
		r := preflight("https://app.example.com", "PUT", "x-a")
		r.ACRPN = []string{"true"}
		return r
	}(), want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
		"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true",
		"access-control-allow-methods", "PUT", "access-control-allow-headers", "x-a", "access-control-max-age", "60",
		"access-control-allow-private-network", "true"),
		varyPreflight + ", Access-Control-Request-Private-Network", "default"}},
	{"custom preflight status", cfgOptions, preflight("https://app.example.com", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 200, h("access-control-allow-origin", "https://app.example.com"), varyPreflight, "default"}},
	{"regex origin", cfgRegex, preflight("https://www.example.com", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h("access-control-allow-origin", "https://www.example.com"), varyPreflight, "default"}},

	// Denied preflights: 403 and no CORS header.
	{"disallowed origin", cfgCreds, preflight("https://evil.example", "PUT"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"subdomain pattern excludes the apex", cfgCreds, preflight("https://example.org", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"subdomain pattern is label-aware", cfgCreds, preflight("https://evilexample.org", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"subdomain pattern with a suffix attack", cfgCreds, preflight("https://app.example.org.evil.example", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"subdomain pattern keeps the default port", cfgCreds, preflight("https://a.example.org:8443", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"subdomain pattern keeps the scheme", cfgCreds, preflight("http://a.example.org", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"empty label before the suffix", cfgCreds, preflight("https://a..example.org", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"exact origin with a trailing slash", cfgCreds, preflight("https://app.example.com/", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"exact origin in upper case", cfgCreds, preflight("https://APP.example.com", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"exact origin with the default port", cfgCreds, preflight("https://app.example.com:443", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"null origin not allowed", cfgCreds, preflight("null", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"two Origin headers", cfgCreds, policy.Request{Method: "OPTIONS", Origin: []string{"https://app.example.com", "https://app.example.com"}, ACRM: []string{"PUT"}},
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"two Origin lines as Envoy joins them", cfgCreds, preflight("https://app.example.com,https://app.example.com", "PUT"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"a joined Origin is never echoed: any origin answers the static *", cfgAny, actual("GET", "https://a.example, https://evil.example"),
		want{policy.Actual, policy.Forward, policy.OutcomeActualAllowed, 0, h("access-control-allow-origin", "*", "access-control-expose-headers", "*"), "", "default"}},
	{"regex does not match a suffix", cfgRegex, preflight("https://app.example.com.evil.example", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
	{"method is case-sensitive", cfgCreds, preflight("https://app.example.com", "put"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedMethod, 403, nil, varyPreflight, "default"}},
	{"method not listed", cfgCreds, preflight("https://app.example.com", "PATCH"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedMethod, 403, nil, varyPreflight, "default"}},
	{"* never allows a forbidden method", cfgAny, preflight("https://a.example", "CONNECT"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedMethod, 403, nil, "Access-Control-Request-Method, Access-Control-Request-Headers", "default"}},
	{"two ACRM headers", cfgCreds, policy.Request{Method: "OPTIONS", Origin: []string{"https://app.example.com"}, ACRM: []string{"PUT", "DELETE"}},
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedMethod, 403, nil, varyPreflight, "default"}},
	{"header not listed", cfgCreds, preflight("https://app.example.com", "PUT", "x-other"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedHeaders, 403, nil, varyPreflight, "default"}},
	{"* does not cover Authorization with credentials", cfgCredsWild, preflight("https://app.example.com", "GET", "authorization"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedHeaders, 403, nil, varyPreflight, "default"}},
	{"* does not cover Authorization without credentials", cfgAny, preflight("https://a.example", "GET", "Authorization"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedHeaders, 403, nil, "Access-Control-Request-Method, Access-Control-Request-Headers", "default"}},
	{"malformed header name", cfgAny, preflight("https://a.example", "GET", "x-a,x b"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedHeaders, 403, nil, "Access-Control-Request-Method, Access-Control-Request-Headers", "default"}},
	{"too many empty elements", cfgAny, preflight("https://a.example", "GET", "x-a"+strings.Repeat(",", 40)),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedHeaders, 403, nil, "Access-Control-Request-Method, Access-Control-Request-Headers", "default"}},
	{"oversized header list", cfgAny, preflight("https://a.example", "GET", strings.Repeat("x-aaaaaaa,", 500)),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedHeaders, 403, nil, "Access-Control-Request-Method, Access-Control-Request-Headers", "default"}},
	{"private network not allowed", cfgSimple, func() policy.Request {
		r := preflight("https://app.example.com", "GET")
		r.ACRPN = []string{"true"}
		return r
	}(), want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedPrivateNetwork, 403, nil, varyPreflight, "default"}},
	{"denied preflight forwarded on request, with debug reason", cfgOptions, preflight("https://evil.example", "GET"),
		want{policy.Preflight, policy.Forward, policy.OutcomePreflightDeniedOrigin, 0, h("x-cors-debug", "origin not allowed"), varyPreflight, "default"}},
	{"debug reason on a denied preflight", cfgDebug, preflight("https://app.example.com", "PUT"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedMethod, 403, h("x-cors-debug", "method not allowed"), varyPreflight, "default"}},

	// Actual requests.
	{"allowed actual request", cfgCreds, actual("POST", "https://app.example.com"),
		want{policy.Actual, policy.Forward, policy.OutcomeActualAllowed, 0, h(
			"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true",
			"access-control-expose-headers", "x-request-id,x-total"), "Origin", "default"}},
	{"methods are not enforced on actual requests", cfgCreds, actual("PATCH", "https://app.example.com"),
		want{policy.Actual, policy.Forward, policy.OutcomeActualAllowed, 0, h(
			"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true",
			"access-control-expose-headers", "x-request-id,x-total"), "Origin", "default"}},
	{"any origin actual request", cfgAny, actual("GET", "https://a.example"),
		want{policy.Actual, policy.Forward, policy.OutcomeActualAllowed, 0, h("access-control-allow-origin", "*", "access-control-expose-headers", "*"), "", "default"}},
	{"disallowed actual request is forwarded bare", cfgCreds, actual("GET", "https://evil.example"),
		want{policy.Actual, policy.Forward, policy.OutcomeActualDenied, 0, nil, "Origin", "default"}},
	{"disallowed actual request rejected", cfgReject, actual("POST", "https://evil.example"),
		want{policy.Actual, policy.Respond, policy.OutcomeActualDenied, 403, nil, "Origin", "default"}},
	{"same-origin request never rejected", cfgReject, actual("POST", "https://api.example.com"),
		want{policy.Actual, policy.Forward, policy.OutcomeSameOrigin, 0, nil, "Origin", "default"}},
	{"same origin with explicit default port in authority", cfgReject, func() policy.Request {
		r := actual("POST", "https://api.example.com")
		r.Authority = "API.example.com:443"
		return r
	}(), want{policy.Actual, policy.Forward, policy.OutcomeSameOrigin, 0, nil, "Origin", "default"}},
	{"same origin whatever the trailing dot of the authority", cfgReject, func() policy.Request {
		r := actual("POST", "https://api.example.com")
		r.Authority = "api.example.com.:443"
		return r
	}(), want{policy.Actual, policy.Forward, policy.OutcomeSameOrigin, 0, nil, "Origin", "default"}},
	{"same origin whatever the trailing dot of the origin", cfgReject, actual("POST", "https://api.example.com."),
		want{policy.Actual, policy.Forward, policy.OutcomeSameOrigin, 0, nil, "Origin", "default"}},
	{"another host with a trailing dot is cross-origin", cfgReject, actual("POST", "https://api.example.com.evil.example."),
		want{policy.Actual, policy.Respond, policy.OutcomeActualDenied, 403, nil, "Origin", "default"}},
	{"Origin null with Sec-Fetch-Site same-origin is same-origin", cfgReject, func() policy.Request {
		r := actual("POST", "null")
		r.SecFetchSite = "same-origin"
		return r
	}(), want{policy.Actual, policy.Forward, policy.OutcomeSameOrigin, 0, nil, "Origin", "default"}},
	{"Sec-Fetch-Site cross-site is not same-origin", cfgReject, func() policy.Request {
		r := actual("POST", "null")
		r.SecFetchSite = "cross-site"
		return r
	}(), want{policy.Actual, policy.Respond, policy.OutcomeActualDenied, 403, nil, "Origin", "default"}},
	{"same origin behind a TLS-terminating proxy", cfgReject, func() policy.Request {
		r := actual("POST", "https://api.example.com")
		r.Scheme = "http"
		r.AddHeader("X-Forwarded-Proto", "https, http")
		return r
	}(), want{policy.Actual, policy.Forward, policy.OutcomeSameOrigin, 0, nil, "Origin", "default"}},
	{"X-Forwarded-Proto does not make another host same-origin", cfgReject, func() policy.Request {
		r := actual("POST", "https://evil.example")
		r.Scheme = "http"
		r.AddHeader("x-forwarded-proto", "https")
		return r
	}(), want{policy.Actual, policy.Respond, policy.OutcomeActualDenied, 403, nil, "Origin", "default"}},
	{"other scheme is cross-origin", cfgReject, actual("POST", "http://api.example.com"),
		want{policy.Actual, policy.Respond, policy.OutcomeActualDenied, 403, nil, "Origin", "default"}},
	{"other port is cross-origin", cfgReject, actual("POST", "https://api.example.com:8443"),
		want{policy.Actual, policy.Respond, policy.OutcomeActualDenied, 403, nil, "Origin", "default"}},
	{"null origin rejected", cfgReject, actual("POST", "null"),
		want{policy.Actual, policy.Respond, policy.OutcomeActualDenied, 403, nil, "Origin", "default"}},
	{"oversized origin", cfgReject, actual("POST", "https://"+strings.Repeat("a", 400)+".example.com"),
		want{policy.Actual, policy.Respond, policy.OutcomeActualDenied, 403, nil, "Origin", "default"}},

	// Rule selection.
	{"mode off leaves the request alone", cfgRules, func() policy.Request { r := actual("GET", "https://evil.example"); r.Path = "/healthz?x=1"; return r }(),
		want{policy.Actual, policy.Ignore, policy.OutcomeOff, 0, nil, "", "off"}},
	{"path prefix and method", cfgRules, func() policy.Request { r := actual("GET", "https://any.example"); r.Path = "/public/items"; return r }(),
		want{policy.Actual, policy.Forward, policy.OutcomeActualAllowed, 0, h("access-control-allow-origin", "*"), "", "public"}},
	{"path prefix, other method falls through", cfgRules, func() policy.Request {
		r := actual("POST", "https://app.example.com")
		r.Path = "/public/items"
		return r
	}(),
		want{policy.Actual, policy.Forward, policy.OutcomeActualAllowed, 0, h("access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true"), "Origin", "hosts"}},
	{"host match is case-insensitive without port", cfgRules, func() policy.Request {
		r := preflight("https://app.example.com", "PATCH")
		r.Authority = "api.EXAMPLE.com:8443"
		r.Path = "/x"
		return r
	}(), want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
		"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true", "access-control-allow-methods", "PATCH"), varyPreflight, "hosts"}},
	{"host match ignores one trailing dot", cfgRules, func() policy.Request {
		r := preflight("https://app.example.com", "PATCH")
		r.Authority = "api.example.com."
		return r
	}(), want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
		"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true", "access-control-allow-methods", "PATCH"), varyPreflight, "hosts"}},
	{"host wildcard ignores one trailing dot, with a port", cfgRules, func() policy.Request {
		r := actual("GET", "https://evil.example")
		r.Authority = "a.tenant.EXAMPLE.com.:8443"
		return r
	}(), want{policy.Actual, policy.Forward, policy.OutcomeActualDenied, 0, nil, "Origin", "hosts"}},
	{"host match ignores only one trailing dot", cfgRules, func() policy.Request {
		r := preflight("https://app.example.com", "PATCH")
		r.Authority = "api.example.com.."
		return r
	}(), want{policy.Preflight, policy.Ignore, policy.OutcomeUnmatched, 0, nil, "", ""}},
	{"host wildcard excludes the apex", cfgRules, func() policy.Request {
		r := preflight("https://app.example.com", "PATCH")
		r.Authority = "tenant.example.com"
		return r
	}(), want{policy.Preflight, policy.Ignore, policy.OutcomeUnmatched, 0, nil, "", ""}},
	{"host wildcard matches a subdomain", cfgRules, func() policy.Request {
		r := preflight("https://app.example.com", "PATCH")
		r.Authority = "a.tenant.example.com"
		return r
	}(), want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
		"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true", "access-control-allow-methods", "PATCH"), varyPreflight, "hosts"}},
	{"path regex ignores the query", cfgRules, func() policy.Request {
		r := preflight("https://app.example.com", "PUT")
		r.Authority, r.Path = "other.example", "/v2/orders?page=3"
		return r
	}(), want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
		"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true", "access-control-allow-methods", "PUT"), varyPreflight, "regex"}},
	{"route name", cfgRules, func() policy.Request {
		r := actual("GET", "https://admin.example.com")
		r.Authority, r.RouteName = "other.example", "admin-route"
		return r
	}(), want{policy.Actual, policy.Forward, policy.OutcomeActualAllowed, 0, h("access-control-allow-origin", "https://admin.example.com", "access-control-allow-credentials", "true"), "Origin", "route"}},
	{"preflight matched by its requested method", cfgRules, func() policy.Request {
		r := preflight("https://app.example.com", "DELETE")
		r.Authority = "other.example"
		return r
	}(), want{policy.Preflight, policy.Respond, policy.OutcomePreflightAllowed, 204, h(
		"access-control-allow-origin", "https://app.example.com", "access-control-allow-credentials", "true", "access-control-allow-methods", "DELETE"), varyPreflight, "writes"}},
	{"no rule matched", cfgRules, func() policy.Request {
		r := actual("GET", "https://app.example.com")
		r.Authority = "other.example"
		return r
	}(),
		want{policy.Actual, policy.Ignore, policy.OutcomeUnmatched, 0, nil, "", ""}},

	// report_only.
	{"report_only says what would happen", cfgReport, preflight("https://evil.example", "GET"),
		want{policy.Preflight, policy.Respond, policy.OutcomePreflightDeniedOrigin, 403, nil, varyPreflight, "default"}},
}

func TestDecide(t *testing.T) {
	const tmpl = "Decide(%+v) %s:\n got  %v\n want %v"
	for _, tc := range decideCases {
		t.Run(tc.desc, func(t *testing.T) {
			t.Parallel()
			p, err := policy.Parse([]byte(tc.cfg))
			if err != nil {
				t.Fatal(err)
			}
			d := p.Decide(&tc.req)
			w := tc.want
			if d.Kind != w.kind {
				t.Errorf(tmpl, tc.req, "kind", d.Kind, w.kind)
			}
			if d.Action != w.action {
				t.Errorf(tmpl, tc.req, "action", d.Action, w.action)
			}
			if d.Outcome != w.outcome {
				t.Errorf(tmpl, tc.req, "outcome", d.Outcome, w.outcome)
			}
			if d.Action == policy.Respond && d.Status != w.status {
				t.Errorf(tmpl, tc.req, "status", d.Status, w.status)
			}
			if got := d.Headers(); !slices.Equal(got, w.headers) {
				t.Errorf(tmpl, tc.req, "headers", got, w.headers)
			}
			if d.Vary != w.vary {
				t.Errorf(tmpl, tc.req, "vary", d.Vary, w.vary)
			}
			if d.Rule != w.rule {
				t.Errorf(tmpl, tc.req, "rule", d.Rule, w.rule)
			}
			if d.Reason == "" {
				t.Errorf("Decide(%+v): empty reason", tc.req)
			}
			if d.Action == policy.Respond && d.Status == 403 && (d.Body == "" || strings.Contains(d.Body, "example")) {
				t.Errorf("Decide(%+v): denial body %q must be short and generic", tc.req, d.Body)
			}
		})
	}
}

func Test_that_report_only_is_never_enforced(t *testing.T) {
	p, err := policy.Parse([]byte(cfgReport))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []policy.Request{preflight("https://evil.example", "GET"), actual("GET", "https://evil.example"), actual("GET", "https://app.example.com")} {
		d := p.Decide(&r)
		if !d.ReportOnly || d.Enforced() {
			t.Errorf("Decide(%+v): ReportOnly=%v Enforced=%v; want true, false", r, d.ReportOnly, d.Enforced())
		}
	}
	d := p.Decide(&policy.Request{Method: "GET", Origin: []string{"https://evil.example"}})
	if !d.Outcome.Denied() {
		t.Errorf("outcome %v: want a denial, counted as a report-only divergence", d.Outcome)
	}
}

func Test_that_inherited_fields_apply_and_overrides_win(t *testing.T) {
	p, err := policy.Parse([]byte(`{"allowed_origins":["https://app.example.com"],"allowed_methods":["PUT"],"max_age_seconds":60,
		"rules":[{"name":"a","match":{"paths":["/a"]},"max_age_seconds":5},{"name":"b"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, maxAge string }{{"/a", "5"}, {"/b", "60"}} {
		r := preflight("https://app.example.com", "PUT")
		r.Path = tc.path
		d := p.Decide(&r)
		if d.Outcome != policy.OutcomePreflightAllowed || !slices.Contains(d.Headers(), policy.Header{Name: "access-control-max-age", Value: tc.maxAge}) {
			t.Errorf("path %s: got %v %v; want allowed with max age %s", tc.path, d.Outcome, d.Headers(), tc.maxAge)
		}
	}
}

func TestMergeVary(t *testing.T) {
	cases := []struct {
		existing []string
		tokens   string
		want     string
	}{
		{nil, "Origin", "Origin"},
		{nil, varyPreflight, varyPreflight},
		{nil, " Origin ,, Accept", "Origin, Accept"},
		{nil, "Origin,Accept", "Origin, Accept"},
		{nil, "Origin,  Accept", "Origin, Accept"},
		{nil, "Origin, ", "Origin"},
		{nil, "", ""},
		{[]string{"Accept-Encoding"}, "Origin", "Accept-Encoding, Origin"},
		{[]string{"accept-encoding, origin"}, "Origin", "accept-encoding, origin"},
		{[]string{"Accept-Encoding", "Origin"}, varyPreflight, "Accept-Encoding, Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
		{[]string{" , Cookie ,,"}, "Origin", "Cookie, Origin"},
		{[]string{"*"}, "Origin", "*"},
		{[]string{"Accept", "*"}, "Origin", "*"},
		{[]string{"Accept"}, "", "Accept"},
		{[]string{"accept-encoding,origin"}, "Origin", "accept-encoding, origin"},
		{[]string{" Accept , Origin"}, "Origin", "Accept, Origin"},
		{[]string{"Accept, Origin", ""}, "Origin", "Accept, Origin"},
		// Linear: the upstream's own duplicates are not looked for.
		{[]string{"Accept, accept", "ACCEPT"}, "Origin", "Accept, accept, ACCEPT, Origin"},
		// Bounded: beyond 32 members or 1,024 bytes the upstream's lines
		// are kept and ours appended, a duplicate being harmless.
		{[]string{varyMembers(32) + ", Origin"}, "Origin", varyMembers(32) + ", Origin, Origin"},
		{[]string{varyMembers(31) + ", Origin"}, "Origin", varyMembers(31) + ", Origin"},
		{[]string{" Origin ", strings.Repeat("a", 1024)}, "Origin", "Origin, " + strings.Repeat("a", 1024) + ", Origin"},
		{[]string{varyMembers(40), "*"}, "Origin", varyMembers(40) + ", *, Origin"},
		{[]string{varyMembers(40), "  "}, "", varyMembers(40)},
	}
	for _, tc := range cases {
		if got := policy.MergeVary(tc.existing, tc.tokens); got != tc.want {
			t.Errorf("MergeVary(%q, %q) = %q; want %q", tc.existing, tc.tokens, got, tc.want)
		}
	}
}

// TestMergeVary_tokensAlone checks MergeVary without an upstream Vary, which
// returns the tokens themselves when they read as it writes, on every list
// of up to 7 bytes over letters, commas, spaces and tabs.
func TestMergeVary_tokensAlone(t *testing.T) {
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		var members []string
		for _, m := range strings.Split(prefix, ",") {
			if m = strings.Trim(m, " \t"); m != "" {
				members = append(members, m)
			}
		}
		if got, want := policy.MergeVary(nil, prefix), strings.Join(members, ", "); got != want {
			t.Errorf("MergeVary(nil, %q) = %q; want %q", prefix, got, want)
		}
		if n == 0 {
			return
		}
		for _, c := range []string{"a", "B", ",", " ", "\t"} {
			gen(prefix+c, n-1)
		}
	}
	gen("", 7)
}

// varyMembers returns a Vary value of n distinct members.
func varyMembers(n int) string {
	members := make([]string, n)
	for i := range members {
		members[i] = "X-H" + strconv.Itoa(i)
	}
	return strings.Join(members, ", ")
}

func Test_that_MergeVary_does_not_allocate_when_nothing_changes(t *testing.T) {
	for _, existing := range [][]string{{"Accept-Encoding, Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}, nil} {
		if n := testing.AllocsPerRun(100, func() { _ = policy.MergeVary(existing, varyPreflight) }); n != 0 {
			t.Errorf("MergeVary(%q, %q): %v allocations; want 0", existing, varyPreflight, n)
		}
	}
}

func TestIsUpstreamCORSHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"access-control-allow-origin": true, "Access-Control-Allow-Credentials": true, "access-control-allow-methods": true,
		"access-control-allow-headers": true, "access-control-allow-private-network": true, "Access-Control-Expose-Headers": true,
		"access-control-max-age": true, "Access-Control-Max-Age": true, "access-control-allow-": true, "access-control-x": true,
		"access-control-": false, "access-control": false, "vary": false, "content-type": false, "origin": false, "x-access-control-max-age": false,
	} {
		if got := policy.IsUpstreamCORSHeader(name); got != want {
			t.Errorf("IsUpstreamCORSHeader(%q) = %v; want %v", name, got, want)
		}
	}
}

// TestDecision_detach checks that a detached decision no longer shares
// memory with the request it echoes: the filter reuses the buffer the host
// wrote the request headers into.
func TestDecision_detach(t *testing.T) {
	p, err := policy.Parse([]byte(cfgCreds))
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte("https://app.example.com")
	r := actual("PUT", unsafeString(buf))
	d := p.Decide(&r)
	d.Detach(nil)
	copy(buf, "https://XXX.example.com")
	for _, hd := range d.Headers() {
		if hd.Name == "access-control-allow-origin" && hd.Value != "https://app.example.com" {
			t.Fatalf("ACAO changed with the request buffer: %q", hd.Value)
		}
	}
}

func unsafeString(b []byte) string { return unsafe.String(&b[0], len(b)) }

// TestRequest_AddHeader_names checks that AddHeader records exactly the
// names it documents, in any ASCII case, and nothing that merely resembles
// them: each recorded name, upper-cased, with one byte changed, or one byte
// longer or shorter.
func TestRequest_AddHeader_names(t *testing.T) {
	recorded := []string{":method", ":scheme", ":authority", ":path", "origin", "access-control-request-method",
		"access-control-request-headers", "access-control-request-private-network", "sec-fetch-site", "x-forwarded-proto"}
	fields := func(r *policy.Request) []string {
		return []string{r.Method, r.Scheme, r.Authority, r.Path, strings.Join(r.Origin, "|"), strings.Join(r.ACRM, "|"),
			strings.Join(r.ACRH, "|"), strings.Join(r.ACRPN, "|"), r.SecFetchSite, r.ForwardedProto}
	}
	for i, name := range recorded {
		variants := map[string]bool{name: true, strings.ToUpper(name): true, name + "x": false, name[1:]: false}
		for j := range len(name) {
			for _, c := range []byte{name[j] ^ 0x20, name[j] + 1, name[j] &^ 0x20} {
				v := name[:j] + string(c) + name[j+1:]
				variants[v] = strings.ToLower(v) == name
			}
		}
		for v, want := range variants {
			var r policy.Request
			r.AddHeader(v, "https")
			got := fields(&r)
			for k, f := range got {
				if wantF := k == i && want; (f != "") != wantF {
					t.Errorf("AddHeader(%q): field %d = %q; want recorded %v", v, k, f, wantF)
				}
			}
		}
	}
}
