package browser_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// policyFor returns the plugin configuration of the test: one rule per
// scenario family, all allowing only the origin allowed except `any`.
func policyFor(allowed string) string {
	return fmt.Sprintf(`{
  "rules": [
    {"name": "read", "match": {"path_prefixes": ["/read/"]},
     "allowed_origins": [%[1]q], "exposed_response_headers": ["X-Request-Id"]},
    {"name": "write", "match": {"path_prefixes": ["/write/"]},
     "allowed_origins": [%[1]q], "allowed_methods": ["PUT"], "allowed_request_headers": ["X-Custom", "Content-Type"]},
    {"name": "creds", "match": {"path_prefixes": ["/creds/"]},
     "allowed_origins": [%[1]q], "allow_credentials": true, "exposed_response_headers": ["X-Request-Id"]},
    {"name": "any", "match": {"path_prefixes": ["/any/"]},
     "allowed_origins": ["*"], "exposed_response_headers": ["X-Request-Id"]},
    {"name": "strip", "match": {"path_prefixes": ["/strip/"]},
     "allowed_origins": [%[1]q]},
    {"name": "auth", "match": {"path_prefixes": ["/auth/"]},
     "allowed_origins": [%[1]q], "allowed_request_headers": ["Authorization"], "exposed_response_headers": ["WWW-Authenticate"]},
    {"name": "guard", "match": {"path_prefixes": ["/guard/"]},
     "allowed_origins": [%[1]q], "reject_disallowed_origins": true}
  ]
}`, allowed)
}

// anyValue in wantHeaders means "readable, whatever the value".
const anyValue = "<any>"

func TestBrowserConformance(t *testing.T) {
	start := time.Now()
	chromium, _, wasm, corsctl := requireBrowserAndBuild(t)

	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel) // last: after the browser and the gateway have stopped
	up := &upstream{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	allowedPage, deniedPage := page(t), page(t) // same host, other ports: two origins, both cross-origin to the gateway
	gateway := startGateway(t, ctx, corsctl, wasm, policyFor(allowedPage.URL), upSrv.URL)
	browserCtx := startBrowser(t, ctx, chromium)
	tabs := map[string]*tab{
		"allowed": openTab(t, browserCtx, allowedPage.URL),
		"denied":  openTab(t, browserCtx, deniedPage.URL),
	}
	t.Logf("gateway %s, pages %s (allowed) and %s (denied), %s; ready after %v",
		gateway, allowedPage.URL, deniedPage.URL, chromium, time.Since(start).Round(time.Millisecond))

	include := map[string]any{"credentials": "include"}
	tests := []struct {
		desc        string
		from        string         // "allowed" or "denied": the tab whose page runs fetch()
		method      string         // of the actual request
		path        string         // on the gateway, unique per case
		init        map[string]any // fetch() options besides method
		read        []string       // response headers the page tries to read
		wantBlocked bool           // fetch() rejects with TypeError: Failed to fetch
		wantCORS    string         // Chromium's CORS error code when blocked
		wantStatus  int
		wantBody    string
		wantHeaders map[string]string // readable value, anyValue or "<unreadable>"
		wantSeen    int               // actual requests (method, path) the upstream saw
		checkSeen   func(s seen) string
	}{
		{
			desc: "1 simple GET from the allowed origin: status, body and exposed header readable",
			from: "allowed", method: "GET", path: "/read/items",
			read:       []string{"X-Request-Id", "X-Secret", "Content-Type"},
			wantStatus: 200, wantBody: `"path":"/read/items"`,
			wantHeaders: map[string]string{"X-Request-Id": anyValue, "X-Secret": "<unreadable>", "Content-Type": "application/json"},
			wantSeen:    1,
			checkSeen:   wantField("Origin", func(s seen) string { return s.Origin }, allowedPage.URL),
		},
		{
			desc: "2 simple GET from a disallowed origin: blocked, though delivered (no reject_disallowed_origins)",
			from: "denied", method: "GET", path: "/read/other",
			wantBlocked: true, wantCORS: "MissingAllowOriginHeader",
			wantSeen: 1,
		},
		{
			desc: "3 preflighted PUT with a custom header, allowed: succeeds and the upstream gets the PUT",
			from: "allowed", method: "PUT", path: "/write/doc",
			init:       map[string]any{"headers": map[string]string{"X-Custom": "v1", "Content-Type": "application/json"}, "body": `{"title":"hello"}`},
			wantStatus: 200, wantBody: `"method":"PUT"`,
			wantSeen: 1,
			checkSeen: func(s seen) string {
				if s.Custom != "v1" || s.Body != `{"title":"hello"}` {
					return fmt.Sprintf("upstream saw X-Custom %q and body %q, want v1 and the JSON", s.Custom, s.Body)
				}
				return ""
			},
		},
		{
			desc: "4a preflight with a disallowed header: blocked, the PUT never reaches the upstream",
			from: "allowed", method: "PUT", path: "/write/evil",
			init:        map[string]any{"headers": map[string]string{"X-Custom": "v1", "X-Evil": "1"}, "body": "x"},
			wantBlocked: true, wantCORS: "PreflightMissingAllowOriginHeader",
		},
		{
			desc: "4b preflight with a disallowed method: blocked, the DELETE never reaches the upstream",
			from: "allowed", method: "DELETE", path: "/write/gone",
			init:        map[string]any{"headers": map[string]string{"X-Custom": "v1"}},
			wantBlocked: true, wantCORS: "PreflightMissingAllowOriginHeader",
		},
		{
			desc: "5a credentialed POST against the credentialed rule: readable, and the cookie is set",
			from: "allowed", method: "POST", path: "/creds/login", init: include,
			wantStatus: 200, wantSeen: 1,
		},
		{
			desc: "5b credentialed GET against the credentialed rule: the cookie goes, the exposed header is readable",
			from: "allowed", method: "GET", path: "/creds/me", init: include,
			read:       []string{"X-Request-Id", "X-Secret"},
			wantStatus: 200, wantBody: `"cookie":"sid=s3cret"`,
			wantHeaders: map[string]string{"X-Request-Id": anyValue, "X-Secret": "<unreadable>"},
			wantSeen:    1,
			checkSeen:   wantField("Cookie", func(s seen) string { return s.Cookie }, "sid=s3cret"),
		},
		{
			desc: "5c uncredentialed GET against the * rule: readable",
			from: "denied", method: "GET", path: "/any/open",
			read:       []string{"X-Request-Id"},
			wantStatus: 200, wantHeaders: map[string]string{"X-Request-Id": anyValue},
			wantSeen: 1,
		},
		{
			desc: "5d credentialed GET against the * rule: the browser refuses ACAO * with credentials",
			from: "allowed", method: "GET", path: "/any/creds", init: include,
			wantBlocked: true, wantCORS: "WildcardOriginNotAllowed",
			wantSeen: 1,
		},
		{
			desc: "6a upstream sends ACAO * but the policy denies the origin: still blocked (stripped)",
			from: "denied", method: "GET", path: "/strip/a",
			wantBlocked: true, wantCORS: "MissingAllowOriginHeader",
			wantSeen: 1,
		},
		{
			desc: "6b upstream sends ACAO * and ACEH X-Secret, origin allowed: one ACAO, upstream's expose list gone",
			from: "allowed", method: "GET", path: "/strip/b",
			read:       []string{"X-Secret"},
			wantStatus: 200, wantHeaders: map[string]string{"X-Secret": "<unreadable>"},
			wantSeen: 1,
		},
		{
			desc: "6c upstream sends ACAC true on a non-credentialed rule: credentialed fetch blocked (stripped)",
			from: "allowed", method: "GET", path: "/strip/c", init: include,
			wantBlocked: true, wantCORS: "InvalidAllowCredentials",
			wantSeen: 1,
		},
		{
			desc: "7 upstream 401 (a later auth filter) on an allowed origin: the page reads 401 and WWW-Authenticate",
			from: "allowed", method: "GET", path: "/auth/me",
			init:       map[string]any{"headers": map[string]string{"Authorization": "Bearer expired"}},
			read:       []string{"WWW-Authenticate"},
			wantStatus: 401, wantBody: `"error":"unauthorized"`,
			wantHeaders: map[string]string{"WWW-Authenticate": `Bearer realm="api", error="invalid_token"`},
			wantSeen:    1,
			checkSeen:   wantField("Authorization", func(s seen) string { return s.Authorization }, "Bearer expired"),
		},
		{
			desc: "8a reject_disallowed_origins: a disallowed simple POST never reaches the upstream",
			from: "denied", method: "POST", path: "/guard/transfer",
			init:        map[string]any{"headers": map[string]string{"Content-Type": "text/plain"}, "body": "amount=100"},
			wantBlocked: true, wantCORS: "MissingAllowOriginHeader",
		},
		{
			desc: "8b reject_disallowed_origins: the allowed origin's simple POST goes through",
			from: "allowed", method: "POST", path: "/guard/transfer",
			init:       map[string]any{"headers": map[string]string{"Content-Type": "text/plain"}, "body": "amount=100"},
			wantStatus: 200, wantBody: `"body":"amount=100"`,
			wantSeen:  1,
			checkSeen: wantField("Origin", func(s seen) string { return s.Origin }, allowedPage.URL),
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			tb := tabs[tt.from]
			init := map[string]any{"method": tt.method}
			for k, v := range tt.init {
				init[k] = v
			}
			res := tb.fetch(t, gateway+tt.path, init, tt.read...)
			t.Log(res)
			if tt.wantBlocked {
				if !res.blocked() {
					t.Errorf("want fetch() to reject with TypeError: Failed to fetch; got %v", res)
				} else if !hasCode(res.cors, tt.wantCORS) {
					t.Errorf("want Chromium CORS error %s; got %v", tt.wantCORS, res)
				}
			} else {
				if res.Error != "" || res.Status != tt.wantStatus || res.OK != (tt.wantStatus < 300) {
					t.Errorf("want status %d readable; got %v", tt.wantStatus, res)
				}
				if !strings.Contains(res.Body, tt.wantBody) {
					t.Errorf("want a body containing %s; got %v", tt.wantBody, res)
				}
				for name, want := range tt.wantHeaders {
					got := res.header(name)
					if got != want && !(want == anyValue && got != "<unreadable>") {
						t.Errorf("headers.get(%q) = %q, want %q; %v", name, got, want, res)
					}
				}
			}
			seen := up.requests(tt.method, tt.path)
			if len(seen) != tt.wantSeen {
				t.Errorf("upstream saw %d %s %s, want %d; %v", len(seen), tt.method, tt.path, tt.wantSeen, res)
			}
			if tt.checkSeen != nil && len(seen) > 0 {
				if msg := tt.checkSeen(seen[len(seen)-1]); msg != "" {
					t.Error(msg)
				}
			}
			if opts := up.requests("OPTIONS", tt.path); len(opts) != 0 {
				t.Errorf("upstream saw %d preflights on %s; the filter must answer them", len(opts), tt.path)
			}
		})
	}
	t.Logf("%d scenarios in %v", len(tests), time.Since(start).Round(time.Millisecond))
}

// hasCode reports whether one of Chromium's CORS errors is code.
func hasCode(errs []string, code string) bool {
	for _, e := range errs {
		if e == code || strings.HasPrefix(e, code+"(") {
			return true
		}
	}
	return false
}

// wantField returns a seen check that the field read by get equals want.
func wantField(name string, get func(seen) string, want string) func(seen) string {
	return func(s seen) string {
		if got := get(s); got != want {
			return fmt.Sprintf("upstream saw %s %q, want %q", name, got, want)
		}
		return ""
	}
}
