package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const demoCases = "../../examples/demo/cases.yaml"

// TestDemoCases runs the demo's cases file, as make test does, on both
// engines.
func TestDemoCases(t *testing.T) {
	for _, engine := range []string{"wasm", "policy"} {
		t.Run(engine, func(t *testing.T) {
			args := []string{"test", "-engine", engine}
			if engine == "wasm" {
				args = append(args, "-wasm", testWasm(t))
			}
			code, out, errOut := runArgs(append(args, demoConfig, demoCases)...)
			if code != 0 || !strings.Contains(out, "10 cases, 10 passed, 0 failed") {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
		})
	}
}

// TestTestMismatch: a case that expects allowed on a request the policy
// denies fails the run with exit 1, and says why, in the table and in the
// JUnit file.
func TestTestMismatch(t *testing.T) {
	config := writeConfig(t, `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["PUT"]}`)
	cases := writeFile(t, "cases.json", `[
	  {"name": "app puts", "method": "OPTIONS", "path": "/x", "headers": [["origin", "https://app.example.com"], ["access-control-request-method", "PUT"]], "expect": "allowed", "rule": "default",
	   "must_have": ["access-control-allow-methods: PUT", "vary"], "must_not_have": ["access-control-allow-credentials"]},
	  {"name": "app deletes", "method": "OPTIONS", "path": "/x", "headers": [["origin", "https://app.example.com"], ["access-control-request-method", "DELETE"]], "expect": "allowed"},
	  {"id": 3, "method": "GET", "headers": [["origin", "https://app.example.com"]], "expect": "allowed", "rule": "other", "must_have": ["access-control-allow-origin: *", "x-missing"], "must_not_have": ["vary"]}
	]`)
	for _, engine := range []string{"wasm", "policy"} {
		t.Run(engine, func(t *testing.T) {
			junit := filepath.Join(t.TempDir(), "junit.xml")
			args := []string{"test", "-engine", engine, "-junit", junit, config, cases}
			if engine == "wasm" {
				args = append(args, "-wasm", testWasm(t))
			}
			code, out, errOut := runArgs(args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			for _, want := range []string{
				"ok      app puts", "FAIL    app deletes", "want allowed, got denied (preflight_denied_method)",
				"FAIL    3 ", "want rule other, got default", `header access-control-allow-origin: want "*", got "https://app.example.com"`,
				"missing header x-missing", "unwanted header vary: Origin", "3 cases, 1 passed, 2 failed",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			b, err := os.ReadFile(junit)
			if err != nil {
				t.Fatal(err)
			}
			var suites junitSuites
			if err := xml.Unmarshal(b, &suites); err != nil {
				t.Fatal(err)
			}
			s := suites.Suites[0]
			if s.Tests != 3 || s.Failures != 2 || s.Cases[0].Failure != nil || s.Cases[1].Failure == nil ||
				!strings.Contains(s.Cases[1].Failure.Message, "want allowed, got denied") {
				t.Errorf("JUnit: %+v", s)
			}
		})
	}
}

func TestTestBadCases(t *testing.T) {
	config := writeConfig(t, `{"allowed_origins": ["https://app.example.com"]}`)
	for _, c := range []struct{ cases, want string }{
		{`[{"method": "GET"}]`, `case 1 (case 1): "expect" is required`},
		{`[{"method": "GET", "expect": "alowed"}]`, `(did you mean "allowed"?)`},
		{`[{"metod": "GET", "expect": "allowed"}]`, `unknown field "metod"`},
		{"- {name: a, expect: denied}\n- {name: a, expect: denied}\n", "case 2 (a): the same name as case 1"},
		{`{"expect": "allowed"}`, "want a JSON array (or a YAML list) of cases"},
		{`[{"expect": "allowed", "must_not_have": ["vary: Origin"]}]`, "want a header name only"},
	} {
		code, _, errOut := runArgs("test", "-engine", "policy", config, writeFile(t, "cases.yaml", c.cases))
		if code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", c.cases, code, errOut, c.want)
		}
	}
	if code, _, _ := runArgs("test", config); code != 2 {
		t.Errorf("one argument: exit %d, want 2", code)
	}
}
