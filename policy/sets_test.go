package policy_test

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// issueConfig is the configuration corsctl check must accept (issue 10).
const issueConfig = `{"origin_sources":[{"name":"partners","cluster":"registry","authority":"registry.internal","path":"/origins","refresh_seconds":60,"timeout_ms":500,"max_origins":1000}],"allowed_origin_sets":["partners"]}`

func TestParse_originSources(t *testing.T) {
	p, err := policy.Parse([]byte(issueConfig))
	if err != nil {
		t.Fatal(err)
	}
	src := p.Sources()
	want := policy.OriginSource{Name: "partners", Cluster: "registry", Authority: "registry.internal", Path: "/origins", RefreshSeconds: 60, TimeoutMS: 500, MaxOrigins: 1000}
	if len(src) != 1 || !reflect.DeepEqual(src[0], want) {
		t.Fatalf("Sources() = %+v; want [%+v]", src, want)
	}
	// The effective configuration parses again into the same policy.
	again, err := policy.Parse([]byte(p.String()))
	if err != nil {
		t.Fatalf("String() does not parse: %v\n%s", err, p)
	}
	if again.String() != p.String() {
		t.Errorf("String() round trip:\n%s\n%s", p, again)
	}
}

func TestParse_refusesBadSources(t *testing.T) {
	for _, tc := range []struct {
		input string
		want  []problem
	}{
		{`{"origin_sources":[{"name":"partners","cluster":"registry","authority":"registry.internal","path":"/origins"}],"allowed_origin_sets":["partner"]}`,
			[]problem{{"allowed_origin_sets[0]", policy.ProblemUnknownSet}}},
		{`{"origin_sources":[{"name":"partners","cluster":"registry","authority":"registry.internal","path":"/origins","max_origins":0}],"allowed_origin_sets":["partners"]}`,
			[]problem{{"origin_sources[0].max_origins", policy.ProblemOutOfRange}}},
		{`{"origin_sources":[{"name":"p","cluster":"r","authority":"a","path":"x","refresh_seconds":1,"timeout_ms":1000}],"allowed_origin_sets":["p"]}`,
			[]problem{{"origin_sources[0].path", policy.ProblemInvalidValue}, {"origin_sources[0].timeout_ms", policy.ProblemOutOfRange}}},
		{`{"origin_sources":[{"name":"p","cluster":"r"}],"allowed_origin_sets":["p"]}`,
			[]problem{{"origin_sources[0]", policy.ProblemMissing}, {"origin_sources[0]", policy.ProblemMissing}}},
		{`{"origin_sources":[{"name":"p","cluster":"r","authority":"a","path":"/"},{"name":"p","cluster":"r","authority":"a","path":"/"}],"allowed_origin_sets":["p"]}`,
			[]problem{{"origin_sources[1].name", policy.ProblemDuplicateName}}},
		{`{"rules":[{"name":"a","allowed_origins":[],"allowed_origin_sets":["nope"]}]}`,
			[]problem{{"rules[0].allowed_origin_sets[0]", policy.ProblemUnknownSet}}},
		{`{"rules":[{"name":"a","allowed_origins":[],"candidate":{"allowed_origin_sets":["nope"]}}]}`,
			[]problem{{"rules[0].candidate.allowed_origin_sets[0]", policy.ProblemUnknownSet}}},
		{`{"rules":[{"name":"a","allowed_origins":[],"candidate":{"mode":"off"}}]}`,
			[]problem{{"rules[0].candidate.mode", policy.ProblemUnknownKey}}},
		{`{"rules":[{"name":"a","allowed_origins":[],"candidate_rollout_percent":10}]}`,
			[]problem{{"rules[0].candidate_rollout_percent", policy.ProblemMissing}}},
		{`{"rules":[{"name":"a","allowed_origins":[],"candidate":{},"candidate_rollout_percent":101}]}`,
			[]problem{{"rules[0].candidate_rollout_percent", policy.ProblemOutOfRange}}},
		{`{"rules":[{"name":"a","allowed_origins":["https://a.example"],"candidate":{"allowed_origins":["*"],"allow_credentials":true}}]}`,
			[]problem{{"rules[0].candidate.allowed_origins[0]", policy.ProblemCredentials}}},
		{`{"allowed_origins":[],"report_top_origins":0,"report_interval_seconds":-1}`,
			[]problem{{"report_top_origins", policy.ProblemOutOfRange}, {"report_interval_seconds", policy.ProblemOutOfRange}}},
	} {
		_, err := policy.Parse([]byte(tc.input))
		if got := problems(err); !sameProblems(got, tc.want) {
			t.Errorf("%s:\ngot  %v\nwant %v", tc.input, got, tc.want)
		}
	}
}

// A candidate that inherits a refused value reports it once, with the rule.
func TestParse_candidateDoesNotRepeatTheRulesErrors(t *testing.T) {
	_, err := policy.Parse([]byte(`{"rules":[{"name":"a","allowed_origins":["null"],"candidate":{"max_age_seconds":5}}]}`))
	if got, want := problems(err), []problem{{"rules[0].allowed_origins[0]", policy.ProblemNullOrigin}}; !sameProblems(got, want) {
		t.Errorf("got %v; want %v", got, want)
	}
}

func TestParseOriginSet_validatesEveryEntry(t *testing.T) {
	body := `{"origins":["https://a.example","https://A.example","*","null","https://*.github.io",42,
		"https://*.partner.example","http://legacy.example","https://a.example","https://b.example:443"],"generated":"x"}`
	s, dropped, samples, err := policy.ParseOriginSet([]byte(body), 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(s.Origins(), " "), "https://a.example https://*.partner.example http://legacy.example"; got != want {
		t.Errorf("origins = %s; want %s", got, want)
	}
	if dropped != 6 {
		t.Errorf("dropped = %d; want 6 (non-canonical, *, null, public suffix, not a string, default port)", dropped)
	}
	if len(samples) != 5 || samples[0].Index != 1 || samples[4].Index != 5 {
		t.Errorf("samples = %+v", samples)
	}
	// A hostile registry's answer nested a million deep is refused before
	// any recursive parsing (which would overflow the VM's stack).
	deep := `{"origins":[` + strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000) + `]}`
	for _, bad := range []string{``, `[]`, `{"origins":{}}`, `{"origin":[]}`, `{"origins":["https://a.example",`, deep} {
		if _, _, _, err := policy.ParseOriginSet([]byte(bad), 10); err == nil {
			t.Errorf("ParseOriginSet(%.40q) accepted", bad)
		}
	}
	var e policy.SetErr
	if _, _, _, err := policy.ParseOriginSet([]byte(`{"origins":["https://a.example","https://b.example"]}`), 1); !errors.As(err, &e) {
		t.Errorf("an answer over max_origins: err = %v", err)
	}
}

func TestDecide_originSets(t *testing.T) {
	cfg := `{"origin_sources":[{"name":"partners","cluster":"r","authority":"a","path":"/"}],
		"rules":[{"name":"open","match":{"paths":["/open"]},"allowed_origins":["https://static.example"],"allowed_origin_sets":["partners"]},
		         {"name":"creds","allowed_origin_sets":["partners"],"allow_credentials":true}]}`
	p, err := policy.Parse([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	decide := func(path, origin string) policy.Outcome {
		r := actual("GET", origin)
		r.Path = path
		return p.Decide(&r).Outcome
	}
	// Before the first fetch: static origins only; the set denies.
	if got := decide("/open", "https://static.example"); got != policy.OutcomeActualAllowed {
		t.Errorf("static origin before any fetch: %v", got)
	}
	if got := decide("/open", "https://p1.example"); got != policy.OutcomeActualDenied {
		t.Errorf("set origin before any fetch: %v; want denied", got)
	}
	s, _, err := policy.NewOriginSet([]string{"https://p1.example", "http://p2.example", "https://*.p3.example"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	p.SetOriginSet(0, s)
	for _, tc := range []struct {
		path, origin string
		want         policy.Outcome
	}{
		{"/open", "https://p1.example", policy.OutcomeActualAllowed},
		{"/open", "http://p2.example", policy.OutcomeActualAllowed},
		{"/open", "https://x.p3.example", policy.OutcomeActualAllowed},
		{"/open", "https://p3.example", policy.OutcomeActualDenied},
		{"/creds", "https://p1.example", policy.OutcomeActualAllowed},
		// With credentials an http origin is never allowed from a set.
		{"/creds", "http://p2.example", policy.OutcomeActualDenied},
	} {
		if got := decide(tc.path, tc.origin); got != tc.want {
			t.Errorf("%s from %s: %v; want %v", tc.path, tc.origin, got, tc.want)
		}
	}
	r := actual("GET", "https://p1.example")
	r.Path = "/open"
	d := p.Decide(&r)
	if got := p.SetAllowing(&d, "https://p1.example"); got != "partners" {
		t.Errorf("SetAllowing = %q; want partners", got)
	}
	if n := testing.AllocsPerRun(100, func() { d = p.Decide(&r) }); n != 0 {
		t.Errorf("Decide with an origin set: %v allocations; want 0", n)
	}
}

func TestDecide_candidate(t *testing.T) {
	cfg := func(percent int) string {
		return `{"rules":[{"name":"api","allowed_origins":["https://old.example","https://both.example"],
			"candidate":{"allowed_origins":["https://new.example","https://both.example"]},"candidate_rollout_percent":` + strconv.Itoa(percent) + `}]}`
	}
	p, err := policy.Parse([]byte(cfg(0)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		origin  string
		outcome policy.Outcome
		div     policy.Divergence
	}{
		{"https://old.example", policy.OutcomeActualAllowed, policy.CandidateWouldDeny},
		{"https://new.example", policy.OutcomeActualDenied, policy.CandidateWouldAllow},
		{"https://both.example", policy.OutcomeActualAllowed, policy.NoDivergence},
		{"https://none.example", policy.OutcomeActualDenied, policy.NoDivergence},
	} {
		r := actual("GET", tc.origin)
		d := p.Decide(&r)
		if d.Outcome != tc.outcome || d.Divergence != tc.div || d.CandidateEnforced {
			t.Errorf("shadow, %s: %v %v enforced=%v; want %v %v", tc.origin, d.Outcome, d.Divergence, d.CandidateEnforced, tc.outcome, tc.div)
		}
		if n := testing.AllocsPerRun(100, func() { d = p.Decide(&r) }); n != 0 {
			t.Errorf("Decide with a candidate: %v allocations; want 0", n)
		}
	}
	// At 100% the candidate decides; the divergence still compares the
	// candidate with the rule.
	p, err = policy.Parse([]byte(cfg(100)))
	if err != nil {
		t.Fatal(err)
	}
	r := actual("GET", "https://new.example")
	if d := p.Decide(&r); d.Outcome != policy.OutcomeActualAllowed || d.Divergence != policy.CandidateWouldAllow || !d.CandidateEnforced {
		t.Errorf("100%%: %v %v enforced=%v", d.Outcome, d.Divergence, d.CandidateEnforced)
	}
	// At 10%, about one origin in ten sees the candidate, always the same.
	p, err = policy.Parse([]byte(`{"rules":[{"name":"api","allowed_origins":[],"candidate":{"allowed_origins":["https://*.example.com"]},"candidate_rollout_percent":10}]}`))
	if err != nil {
		t.Fatal(err)
	}
	allowed := 0
	for i := range 10_000 {
		r := actual("GET", "https://o"+strconv.Itoa(i)+".example.com")
		d := p.Decide(&r)
		if d.Outcome == policy.OutcomeActualAllowed {
			allowed++
			if !d.CandidateEnforced || policy.RolloutBucket(r.Origin[0]) >= 1000 {
				t.Fatalf("%s allowed outside the rollout", r.Origin[0])
			}
		}
		if again := p.Decide(&r); again.Outcome != d.Outcome {
			t.Fatalf("%s: not stable", r.Origin[0])
		}
	}
	if allowed < 850 || allowed > 1150 {
		t.Errorf("10%% rollout over 10,000 origins: %d allowed; want 1000 ± 150", allowed)
	}
}
