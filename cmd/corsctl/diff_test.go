package main

import (
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

func mustParse(t *testing.T, config string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(config))
	if err != nil {
		t.Fatalf("%s: %v", config, err)
	}
	return p
}

// TestDiffClassifies: on crafted pairs, each kind of change is found and
// classified.
func TestDiffClassifies(t *testing.T) {
	const base = `"allowed_origins": ["https://app.example.com"], "allow_credentials": true, "allowed_methods": ["PUT"], "allowed_request_headers": ["X-A"], "exposed_response_headers": ["X-E"], "max_age_seconds": 600`
	// The rule inherits base from the top level, and overrides it with extra.
	one := func(extra string) string { return `{` + base + `, "rules": [{"name": "r"` + extra + `}]}` }
	cases := []struct {
		desc, old, new string
		kind, what     string // the one change expected
	}{
		{"origin added", one(""), one(`, "allowed_origins": ["https://app.example.com", "https://new.example.com"]`), widening, "allowed_origins (with credentials): + https://new.example.com"},
		{"origin removed", one(`, "allowed_origins": ["https://app.example.com", "https://new.example.com"]`), one(""), narrowing, "allowed_origins (with credentials): - https://new.example.com"},
		{"origin covered by a wildcard", `{"allowed_origins": ["https://*.example.com"]}`, `{"allowed_origins": ["https://*.example.com", "https://a.example.com"]}`, neutral, "covered by the entries both keep"},
		{"any origin kept", `{"allowed_origins": ["*", "https://a.example.com"]}`, `{"allowed_origins": ["*"]}`, neutral, "- https://a.example.com"},
		{"regex added", one(""), one(`, "allowed_origins": ["https://app.example.com"], "allowed_origin_regexes": ["^https://[a-z]+\\.example\\.com$"]`), widening, `allowed_origin_regexes: + ^https://[a-z]+\.example\.com$`},
		{"regex removed", one(`, "allowed_origins": ["https://app.example.com"], "allowed_origin_regexes": ["^https://[a-z]+\\.example\\.com$"]`), one(""), narrowing, "allowed_origin_regexes: - "},
		{"method added", one(""), one(`, "allowed_methods": ["PUT", "DELETE"]`), widening, "allowed_methods: + DELETE"},
		{"method removed", one(""), one(`, "allowed_methods": []`), narrowing, "allowed_methods: - PUT"},
		{"any method", one(""), one(`, "allowed_methods": ["*"]`), widening, "allowed_methods: + *"},
		{"header added", one(""), one(`, "allowed_request_headers": ["X-A", "X-B"]`), widening, "allowed_request_headers: + x-b"},
		{"header removed", one(""), one(`, "allowed_request_headers": []`), narrowing, "allowed_request_headers: - x-a"},
		{"authorization beside *", `{"allowed_origins": ["https://a.example.com"], "allowed_request_headers": ["*"]}`, `{"allowed_origins": ["https://a.example.com"], "allowed_request_headers": ["*", "Authorization"]}`, widening, "allowed_request_headers: + authorization"},
		{"exposed header added", one(""), one(`, "exposed_response_headers": ["X-E", "X-F"]`), widening, "exposed_response_headers: + x-f"},
		{"exposed header removed", one(""), one(`, "exposed_response_headers": []`), narrowing, "exposed_response_headers: - x-e"},
		{"credentials on", `{"allowed_origins": ["https://a.example.com"]}`, `{"allowed_origins": ["https://a.example.com"], "allow_credentials": true}`, widening, "allow_credentials: false → true"},
		{"credentials off", one(""), one(`, "allow_credentials": false`), narrowing, "allow_credentials: true → false"},
		{"max age longer", one(""), one(`, "max_age_seconds": 7200`), widening, "max_age_seconds: 600 → 7200"},
		{"max age shorter", one(""), one(`, "max_age_seconds": 60`), neutral, "max_age_seconds: 600 → 60"},
		{"report only", one(""), one(`, "mode": "report_only"`), widening, "mode: enforce → report_only"},
		{"enforce", one(`, "mode": "off"`), one(""), narrowing, "mode: off → enforce"},
		{"private network on", one(""), one(`, "allow_private_network": true`), widening, "allow_private_network: false → true"},
		{"private network off", one(`, "allow_private_network": true`), one(""), narrowing, "allow_private_network: true → false"},
		{"reject on", one(""), one(`, "reject_disallowed_origins": true`), narrowing, "reject_disallowed_origins: false → true"},
		{"debug on", one(""), one(`, "debug": true`), widening, "debug: false → true"},
		{"match widened", one(`, "match": {"paths": ["/a"]}`), one(`, "match": {"paths": ["/a", "/b"]}`), wideAndNarrow, "match.paths: + /b"},
		{"description", one(""), one(`, "description": "the app"`), neutral, "description changed"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			changes := diffPolicies(mustParse(t, c.old), mustParse(t, c.new))
			if len(changes) != 1 || changes[0].Kind != c.kind || !strings.Contains(changes[0].What, c.what) {
				t.Errorf("changes %+v\nwant one %s change with %q", changes, c.kind, c.what)
			}
		})
	}
}

func TestDiffRules(t *testing.T) {
	a := `{"name": "a", "match": {"paths": ["/a"]}, "allowed_origins": ["https://a.example.com"]}`
	b := `{"name": "b", "allowed_origins": ["https://b.example.com"]}`
	deny := `{"name": "deny", "match": {"paths": ["/d"]}, "allowed_origins": []}`
	rules := func(rs ...string) string { return `{"rules": [` + strings.Join(rs, ",") + `]}` }
	cases := []struct {
		desc, old, new string
		kind, what     string
	}{
		{"rule added last", rules(a), rules(a, b), widening, "rule b added at position 2"},
		{"rule added before another", rules(b), rules(a, b), wideAndNarrow, "rule a added at position 1"},
		{"denying rule added", rules(a), rules(deny, a), narrowing, "rule deny added at position 1: it allows no origin"},
		{"rule removed", rules(a, b), rules(b), narrowing, "rule a removed"},
		{"denying rule removed", rules(deny, b), rules(b), widening, "rule deny removed"},
		{"rules reordered", rules(a, b), rules(b, a), wideAndNarrow, "rules reordered: a, b → b, a"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			changes := diffPolicies(mustParse(t, c.old), mustParse(t, c.new))
			if len(changes) != 1 || changes[0].Kind != c.kind || !strings.Contains(changes[0].What, c.what) {
				t.Errorf("changes %+v\nwant one %s change with %q", changes, c.kind, c.what)
			}
		})
	}
}

// TestDiffExitCodes holds the contract: 3 when NEW adds an origin
// to a credentialed rule, 0 when NEW only reorders OLD's keys, 4 when the
// recorded traffic holds a request NEW denies.
func TestDiffExitCodes(t *testing.T) {
	old := writeConfig(t, `{"rules": [{"name": "app", "allowed_origins": ["https://app.example.com"], "allow_credentials": true, "allowed_methods": ["PUT"]}]}`)
	reordered := writeFile(t, "reordered.json", `{"rules": [{"allowed_methods": ["PUT"], "allow_credentials": true, "allowed_origins": ["https://app.example.com"], "name": "app"}]}`)
	wider := writeFile(t, "wider.json", `{"rules": [{"name": "app", "allowed_origins": ["https://app.example.com", "https://partner.example.net"], "allow_credentials": true, "allowed_methods": ["PUT"]}]}`)
	narrower := writeFile(t, "narrower.json", `{"rules": [{"name": "app", "allowed_origins": ["https://app.example.com"], "allow_credentials": true}]}`)
	traffic := writeFile(t, "requests.jsonl", `{"id": 1, "method": "OPTIONS", "path": "/x", "headers": [["origin", "https://app.example.com"], ["access-control-request-method", "PUT"]]}
{"id": 2, "method": "GET", "path": "/x", "headers": [["origin", "https://app.example.com"]]}
`)
	harmless := writeFile(t, "harmless.jsonl", `{"id": 2, "method": "GET", "path": "/x", "headers": [["origin", "https://app.example.com"]]}`+"\n")
	for _, engine := range []string{"policy", "wasm"} {
		t.Run(engine, func(t *testing.T) {
			extra := []string{"-engine", engine}
			if engine == "wasm" {
				extra = append(extra, "-wasm", testWasm(t))
			}
			for _, c := range []struct {
				args     []string
				want     int
				wantOuts []string
			}{
				{[]string{old, reordered}, 0, []string{"no semantic change", "verdict: no change in behaviour"}},
				{[]string{old, wider}, 3, []string{"rule app:", "widening", "allowed_origins (with credentials): + https://partner.example.net"}},
				{[]string{old, narrower}, 0, []string{"narrowing", "allowed_methods: - PUT", "pass -traffic"}},
				{[]string{old, narrower, "-traffic", traffic}, 4, []string{"traffic: 1 of 2 recorded requests change verdict", "line 1 (id 1): OPTIONS /x from https://app.example.com: allowed (app) → denied (app) CUT OFF"}},
				{[]string{old, narrower, "-traffic", harmless}, 0, []string{"traffic: 0 of 1 recorded request change verdict", "no recorded request is cut off"}},
				{[]string{narrower, old, "-traffic", traffic}, 3, []string{"NEWLY ALLOWED"}},
			} {
				code, out, errOut := runArgs(append(append([]string{"diff"}, c.args...), extra...)...)
				if code != c.want {
					t.Errorf("diff %s: exit %d, want %d\n%s%s", strings.Join(c.args, " "), code, c.want, out, errOut)
				}
				for _, w := range c.wantOuts {
					if !strings.Contains(out, w) {
						t.Errorf("diff %s: stdout lacks %q:\n%s", strings.Join(c.args, " "), w, out)
					}
				}
			}
		})
	}
	if code, _, _ := runArgs("diff", old); code != 2 {
		t.Errorf("one argument: exit %d, want 2", code)
	}
}
