package main

import (
	"bytes"
	"strings"
	"testing"
)

// issueConfig is the configuration of issue 10's "Done means".
const issueConfig = `{"origin_sources":[{"name":"partners","cluster":"registry","authority":"registry.internal","path":"/origins","refresh_seconds":60,"timeout_ms":500,"max_origins":1000}],"allowed_origin_sets":["partners"]}`

func TestCheck_originSources(t *testing.T) {
	for _, tc := range []struct {
		config  string
		want    int
		wantErr string
	}{
		{issueConfig, 0, ""},
		{strings.Replace(issueConfig, `"allowed_origin_sets":["partners"]`, `"allowed_origin_sets":["partner"]`, 1), 1,
			`cors: allowed_origin_sets[0]: "partner": no origin source is named "partner" (did you mean "partners"?)`},
		{strings.Replace(issueConfig, `"max_origins":1000`, `"max_origins":0`, 1), 1, "cors: origin_sources[0].max_origins"},
		{`{"rules":[{"name":"api","allowed_origins":[],"candidate":{"allowed_origins":["null"]}}]}`, 1, "cors: rules[0].candidate.allowed_origins[0]"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"check", writeConfig(t, tc.config)}, nil, &stdout, &stderr); code != tc.want || !strings.Contains(stderr.String(), tc.wantErr) {
			t.Errorf("check %s: exit %d, stderr %q; want %d, %q", tc.config, code, stderr.String(), tc.want, tc.wantErr)
		}
	}
}

func TestExplain_namesTheSetAndTheCandidate(t *testing.T) {
	set := writeConfig(t, `{"origins":["https://a.partner.example","https://UPPER.example"]}`)
	var stdout, stderr bytes.Buffer
	code := run([]string{"explain", writeConfig(t, issueConfig), "-origin-set", "partners=" + set, "-origin", "https://a.partner.example"}, nil, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), `origin:    allowed by origin set "partners"`) ||
		!strings.Contains(stderr.String(), `"https://UPPER.example" dropped`) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	// Without the set: denied, as before the first fetch.
	run([]string{"explain", writeConfig(t, issueConfig), "-origin", "https://a.partner.example"}, nil, &stdout, &stderr)
	if !strings.Contains(stdout.String(), "verdict:   DENIED") {
		t.Errorf("without -origin-set:\n%s", stdout.String())
	}

	cfg := writeConfig(t, `{"rules":[{"name":"api","allowed_origins":["https://old.example"],
	  "candidate":{"allowed_origins":["https://new.example"]},"candidate_rollout_percent":100}]}`)
	stdout.Reset()
	run([]string{"explain", cfg, "-origin", "https://new.example"}, nil, &stdout, &stderr)
	for _, want := range []string{"verdict:   ALLOWED", "decided:   by the rule's candidate: candidate_rollout_percent 100", "candidate_would_allow"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("explain with a candidate lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestReplay_reportsDivergencesAndUsesOriginSets(t *testing.T) {
	wasm := testWasm(t)
	config := tempConfig(t, `{"origin_sources":[{"name":"partners","cluster":"registry","authority":"r","path":"/o"}],
	  "rules":[{"name":"api","allowed_origins":["https://old.example"],"allowed_origin_sets":["partners"],
	            "candidate":{"allowed_origins":["https://new.example"]}}]}`)
	set := writeConfig(t, `{"origins":["https://a.partner.example"]}`)
	in := strings.Join([]string{
		`{"id":1,"headers":[["origin","https://old.example"]]}`,
		`{"id":2,"headers":[["origin","https://new.example"]]}`,
		`{"id":3,"headers":[["origin","https://a.partner.example"]]}`,
		`{"id":4,"headers":[["origin","https://none.example"]]}`,
	}, "\n")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"replay", config, "-wasm", wasm, "-origin-set", "partners=" + set}, strings.NewReader(in), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d; stderr: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	want := []string{`"verdict":"ALLOWED","divergence":"candidate_would_deny"}`, `"verdict":"DENIED","divergence":"candidate_would_allow"}`,
		`"verdict":"ALLOWED","divergence":"candidate_would_deny"}`, `"verdict":"DENIED"}`}
	for i, l := range lines {
		if i >= len(want) || !strings.HasSuffix(l, want[i]) {
			t.Errorf("line %d: %s", i+1, l)
		}
	}
	if !strings.Contains(stderr.String(), `rule "api": the candidate diverged on 3 of 4 requests: 2 candidate_would_deny, 1 candidate_would_allow`) {
		t.Errorf("stderr: %s", stderr.String())
	}
}
