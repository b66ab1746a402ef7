package policy_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

func TestMetadata(t *testing.T) {
	config := `{
	  "version": "2026-07-01.3",
	  "description": "CORS for the storefront APIs",
	  "allowed_origins": ["https://shop.example.com"],
	  "rules": [
	    {"name": "api", "description": "The public API.\nRead-only.", "match": {"path_prefixes": ["/api/"]}, "allowed_methods": ["PUT"]},
	    {"name": "ops", "internal": true, "allowed_origins": []}
	  ]}`
	p, err := policy.Parse([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version() != "2026-07-01.3" || p.Description() != "CORS for the storefront APIs" {
		t.Errorf("Version %q, Description %q", p.Version(), p.Description())
	}
	rules := p.Describe()
	if len(rules) != 2 || rules[0].Description != "The public API.\nRead-only." || rules[0].Internal || !rules[1].Internal {
		t.Fatalf("Describe: %+v", rules)
	}
	want := policy.RuleDescription{
		Name: "api", Description: "The public API.\nRead-only.",
		Match:   policy.MatchDescription{PathPrefixes: []string{"/api/"}},
		Origins: []string{"https://shop.example.com"}, Methods: []string{"PUT"},
		MaxAge: -1, PreflightStatus: 204, Mode: "enforce",
	}
	if !reflect.DeepEqual(rules[0], want) {
		t.Errorf("Describe()[0] =\n%+v\nwant\n%+v", rules[0], want)
	}
	if rules[1].Origins == nil || len(rules[1].Origins) != 0 {
		t.Errorf("an empty origin list must stay empty, not absent: %#v", rules[1].Origins)
	}
	// String keeps the metadata, and parses back to the same policy.
	s := p.String()
	for _, frag := range []string{`"version":"2026-07-01.3"`, `"description":"The public API.\u000aRead-only."`, `"internal":true`} {
		if !strings.Contains(s, frag) {
			t.Errorf("String() lacks %s: %s", frag, s)
		}
	}
	again, err := policy.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	if again.String() != s || !reflect.DeepEqual(again.Describe(), rules) {
		t.Errorf("String does not round-trip:\n%s\n%s", s, again.String())
	}
	if got := p.StartLog(); got != `cors: policy version "2026-07-01.3": "CORS for the storefront APIs"` {
		t.Errorf("StartLog() = %s", got)
	}
	if p, _ := policy.Parse([]byte(`{"allowed_origins":["*"]}`)); p.StartLog() != "" {
		t.Errorf("StartLog without metadata = %q", p.StartLog())
	}
}

func TestMetadataErrors(t *testing.T) {
	cases := map[string]string{
		`{"allowed_origins":[],"version":1}`:                                       "cors: version: must be a string",
		`{"allowed_origins":[],"version":"a\nb"}`:                                  "cors: version: \"a\\u000ab\": must be printable text",
		`{"allowed_origins":[],"description":"` + strings.Repeat("x", 4097) + `"}`: "cors: description: must be at most 4096 bytes",
		`{"allowed_origins":[],"rules":[{"name":"a","internal":"yes"}]}`:           "cors: rules[0].internal: must be a boolean",
		`{"allowed_origins":[],"rules":[{"name":"a","version":"1"}]}`:              "cors: rules[0].version: unknown key",
		`{"allowed_origins":[],"rules":[{"name":"a","description":"\u0007"}]}`:     "cors: rules[0].description: \"\\u0007\": must be printable text",
	}
	for config, want := range cases {
		_, err := policy.Parse([]byte(config))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%.60s): %v\nwant %q", config, err, want)
		}
	}
}
