package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		desc      string
		args      []string // CONFIG is replaced by the demo config
		want      int
		wantOut   []string // substrings of stdout
		notOut    []string // substrings stdout must not contain
		wantErr   []string // substrings of stderr
		wantEmpty bool     // stdout must be empty
	}{
		{
			desc: "allowed preflight",
			args: []string{"CONFIG", "-origin", "http://localhost:8081", "-method", "OPTIONS",
				"-header", "Access-Control-Request-Method: POST", "-header", "access-control-request-headers:content-type,x-csrf-token",
				"-path", "/api/app/orders"},
			wantOut: []string{
				"rule:      app-write (rule 2 of 3)", "kind:      preflight", "verdict:   ALLOWED",
				"(preflight_allowed)", "local reply 204",
				"  access-control-allow-origin: http://localhost:8081\n",
				"  access-control-allow-credentials: true\n",
				"  access-control-allow-headers: content-type,x-csrf-token\n",
				"  access-control-max-age: 600\n",
				"  vary: Origin",
			},
		},
		{
			desc: "a route that adds CORS headers to the local reply",
			args: []string{"CONFIG", "-origin", "http://localhost:8081", "-method", "OPTIONS",
				"-header", "Access-Control-Request-Method: POST", "-path", "/api/app/orders",
				"-route-header", "Access-Control-Allow-Origin: *", "-route-header", "x-route: 1", "-json"},
			wantOut: []string{`"forwarded":false,"status":204`, `["access-control-allow-origin","http://localhost:8081"]`, `["x-route","1"]`},
			notOut:  []string{`"*"`, `*,`},
		},
		{
			desc: "flags before the config",
			args: []string{"-origin", "https://evil.example", "-method", "OPTIONS",
				"-header", "Access-Control-Request-Method: POST", "-path", "/api/app/orders", "CONFIG"},
			wantOut: []string{"verdict:   DENIED", "(preflight_denied_origin)", "local reply 403", "fetch() rejects",
				"\n           origin \"https://evil.example\" is not allowed: rule \"app-write\" allows http://localhost:8081\n"},
			notOut: []string{"access-control-allow-origin"},
		},
		{
			desc: "preflight denied by method",
			args: []string{"CONFIG", "-origin", "http://localhost:8081", "-method", "OPTIONS",
				"-header", "Access-Control-Request-Method: PUT", "-path", "/api/public/items/1"},
			wantOut: []string{"rule:      public-read", "verdict:   DENIED", "(preflight_denied_method)",
				"\n           method \"PUT\" is not allowed: rule \"public-read\" allows GET, HEAD and POST only\n"},
		},
		{
			desc: "preflight denied by header",
			args: []string{"CONFIG", "-origin", "http://localhost:8081", "-method", "OPTIONS",
				"-header", "Access-Control-Request-Method: POST", "-header", "Access-Control-Request-Headers: x-debug",
				"-path", "/api/app/orders"},
			wantOut: []string{"verdict:   DENIED", "(preflight_denied_headers)",
				"\n           header \"x-debug\" is not allowed: rule \"app-write\" allows content-type, x-csrf-token\n"},
		},
		{
			desc:    "actual request allowed, forwarded",
			args:    []string{"CONFIG", "-origin", "https://anyone.example", "-path", "/api/public/items"},
			wantOut: []string{"kind:      actual", "verdict:   ALLOWED", "forwarded to upstream", "  access-control-allow-origin: *\n"},
			notOut:  []string{"vary:"},
		},
		{
			desc: "credentialed request to a rule that answers *: the browser refuses it",
			args: []string{"CONFIG", "-origin", "https://anyone.example", "-path", "/api/public/items", "-credentials"},
			wantOut: []string{"(with credentials)", "verdict:   ALLOWED", "  access-control-allow-origin: *\n",
				"browser:   refused: with credentials (credentials: \"include\", or a Cookie), the browser refuses Access-Control-Allow-Origin: *"},
			notOut: []string{"the page can read"},
		},
		{
			desc: "a Cookie header makes the request credentialed",
			args: []string{"CONFIG", "-origin", "https://anyone.example", "-path", "/api/public/items", "-header", "Cookie: demo_session=1"},
			wantOut: []string{"           cookie: demo_session=1\n",
				"browser:   refused: with credentials (credentials: \"include\", or a Cookie), the browser refuses Access-Control-Allow-Origin: *"},
		},
		{
			desc:    "credentialed request to a rule with credentials: readable",
			args:    []string{"CONFIG", "-origin", "http://localhost:8081", "-method", "POST", "-path", "/api/app/orders", "-credentials"},
			wantOut: []string{"browser:   the page can read the response"},
			notOut:  []string{"refused"},
		},
		{
			desc: "actual request rejected locally",
			args: []string{"CONFIG", "-origin", "http://localhost:8081", "-path", "/admin/users"},
			wantOut: []string{"rule:      admin", "verdict:   DENIED", "(actual_denied)", "local reply 403", "  vary: Origin\n",
				"origin \"http://localhost:8081\" is not allowed: rule \"admin\" allows no origin (its allowed_origins is empty)"},
			notOut: []string{"access-control-allow-origin"},
		},
		{
			desc:    "no rule matches",
			args:    []string{"CONFIG", "-origin", "https://anyone.example", "-path", "/elsewhere"},
			wantOut: []string{"none of 3 (public-read, app-write, admin) matched", "verdict:   UNTOUCHED", "(unmatched)", "untouched"},
		},
		{
			desc:    "no origin",
			args:    []string{"CONFIG", "-method", "POST", "-path", "/api/app/orders"},
			wantOut: []string{"not a CORS request", "(not_cors)", "  vary: Origin (merged"},
		},
		{
			desc:    "options without request method is not a preflight",
			args:    []string{"CONFIG", "-origin", "http://localhost:8081", "-method", "OPTIONS", "-path", "/api/app/orders"},
			wantOut: []string{"kind:      actual", "note:", "Access-Control-Request-Method"},
		},
		{desc: "no config", args: []string{"-origin", "https://a.example"}, want: 2, wantEmpty: true},
		{desc: "bad header flag", args: []string{"CONFIG", "-header", "no-colon"}, want: 2, wantEmpty: true, wantErr: []string{"Name: value"}},
		{desc: "bad method", args: []string{"CONFIG", "-method", "GE T"}, want: 2, wantEmpty: true},
		{desc: "unknown flag", args: []string{"CONFIG", "-nope"}, want: 2, wantEmpty: true},
		{desc: "missing config file", args: []string{"/nonexistent.json", "-origin", "https://a.example"}, want: 1, wantEmpty: true, wantErr: []string{"cannot read config"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			args := []string{"explain"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "CONFIG", demoConfig))
			}
			var stdout, stderr bytes.Buffer
			got := run(args, strings.NewReader(""), &stdout, &stderr)
			if got != tt.want {
				t.Fatalf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tt.want, stdout.String(), stderr.String())
			}
			out := stdout.String()
			for _, s := range tt.wantOut {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.notOut {
				if strings.Contains(out, s) {
					t.Errorf("stdout has %q:\n%s", s, out)
				}
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if tt.wantEmpty && out != "" {
				t.Errorf("stdout not empty:\n%s", out)
			}
		})
	}
}

func TestExplainInvalidConfig(t *testing.T) {
	path := writeConfig(t, `{"allowed_origins": ["https://App.example.com"], "rules": 3}`)
	var stdout, stderr bytes.Buffer
	if got := run([]string{"explain", path, "-origin", "https://a.example"}, strings.NewReader(""), &stdout, &stderr); got != 1 {
		t.Fatalf("exit = %d, want 1; stderr:\n%s", got, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout not empty:\n%s", stdout.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) < 2 {
		t.Errorf("want every error, one per line; got:\n%s", stderr.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "cors: ") {
			t.Errorf("stderr line %q does not start with \"cors: \"", l)
		}
	}
}

func TestExplainCredentialsWithoutAllowCredentials(t *testing.T) {
	path := writeConfig(t, `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["PUT"]}`)
	for _, args := range [][]string{
		{"-method", "GET"},
		{"-method", "OPTIONS", "-header", "Access-Control-Request-Method: PUT"},
	} {
		var stdout, stderr bytes.Buffer
		args = append([]string{"explain", path, "-origin", "https://app.example.com", "-credentials"}, args...)
		if got := run(args, strings.NewReader(""), &stdout, &stderr); got != 0 {
			t.Fatalf("exit = %d, want 0; stderr:\n%s", got, stderr.String())
		}
		const want = "browser:   refused: with credentials (credentials: \"include\", or a Cookie), the browser wants Access-Control-Allow-Credentials: true, " +
			"which rule \"default\" does not send (allow_credentials is false)"
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("%q: stdout lacks %q:\n%s", args, want, stdout.String())
		}
	}
}

func TestExplainReportOnly(t *testing.T) {
	path := writeConfig(t, `{"allowed_origins": ["https://app.example.com"], "mode": "report_only", "reject_disallowed_origins": true}`)
	var stdout, stderr bytes.Buffer
	if got := run([]string{"explain", path, "-origin", "https://evil.example", "-method", "POST"}, strings.NewReader(""), &stdout, &stderr); got != 0 {
		t.Fatalf("exit = %d, want 0; stderr:\n%s", got, stderr.String())
	}
	for _, s := range []string{"verdict:   DENIED (report_only", "forwarded to upstream unchanged", "none changed (report_only)"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
		}
	}
}

// TestExplainJSON checks that explain -json prints what replay prints for
// the same request through the real cors.wasm, the rule and the verdict
// included; the case is a same-origin POST that Chromium sends with
// "Origin: null", which explain once denied and the plugin forwarded.
func TestExplainJSON(t *testing.T) {
	wasm := testWasm(t)
	config := tempConfig(t, `{"allowed_origins":["https://app.example.com"],"reject_disallowed_origins":true}`)
	var out, errOut bytes.Buffer
	code := runExplain([]string{config, "-json", "-method", "POST", "-origin", "null", "-header", "Sec-Fetch-Site: same-origin",
		"-header", "Host: api.example.com", "-path", "/orders", "-upstream-header", "X-Up: 1"}, nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	const want = `{"forwarded":true,"status":200,"headers":[["x-up","1"],["vary","Origin"]],"rule":"default","verdict":"ALLOWED"}` + "\n"
	if out.String() != want {
		t.Fatalf("explain -json:\n got  %s want %s", out.String(), want)
	}
	var replayOut bytes.Buffer
	in := `{"method":"POST","path":"/orders","headers":[["origin","null"],["sec-fetch-site","same-origin"],["host","api.example.com"]],"upstream":{"status":200,"headers":[["x-up","1"]]}}` + "\n"
	if code := runReplay([]string{"-config", config, "-wasm", wasm}, strings.NewReader(in), &replayOut, &errOut); code != 0 {
		t.Fatalf("replay exit %d: %s", code, errOut.String())
	}
	// The same line, rule and verdict included: replay reads them from the
	// plugin's counters, explain from its decision.
	if got, want := replayOut.String(), `{"id":null,`+strings.TrimPrefix(want, "{"); got != want {
		t.Errorf("replay:\n got  %s want %s", got, want)
	}
}
