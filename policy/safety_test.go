package policy_test

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/publicsuffix"

	"github.com/corsfilter/corsfilter/policy"
	"github.com/corsfilter/corsfilter/policy/internal/psl"
)

// The tests in this file hold the promise that a dangerous configuration
// cannot be loaded by accident: each class of danger is refused (with
// credentials) or warned about (without), with a counterexample or a named
// reason, and the safe forms next to it stay accepted.

// parseErr parses a configuration that must be refused and returns its
// problems and message.
func parseErr(t *testing.T, cfg string) ([]problem, string) {
	t.Helper()
	p, err := policy.Parse([]byte(cfg))
	if err == nil {
		t.Fatalf("policy.Parse(%s) accepted; warnings %q", cfg, p.Warnings())
	}
	return problems(err), err.Error()
}

func parseOK(t *testing.T, cfg string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(cfg))
	if err != nil {
		t.Fatalf("policy.Parse(%s): %v", cfg, err)
	}
	return p
}

func jsonString(s string) string { return strconv.Quote(s) }

var counterexampleRE = regexp.MustCompile(`matches "([^"]+)"`)

// siteOf is an independent reading of an origin's site: x/net's list.
func siteOf(t *testing.T, origin string) string {
	host := origin[strings.Index(origin, "://")+3:]
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(strings.TrimSuffix(host, "."))
	if err != nil {
		return host
	}
	return d
}

func TestOriginRegexes_spanningSitesRefusedWithCredentials(t *testing.T) {
	for _, tc := range []struct{ expr, site string }{
		{`^https://(www|app).example\.com$`, "example.com"},
		{`^https://(app)\.example\.com.{0,50}$`, "example.com"},
		{`^https://[a-z0-9-]+\.vercel\.app(:\d+)?$`, ""},
		{`^https://[a-z0-9-]+\.[a-z]{2}$`, ""},
		{`^https://.*example\.com$`, "example.com"},
		{`^https://a\.example\.com(\.[a-z]+)*$`, "example.com"},
		{`^https://[a-z0-9-]+\.blob\.core\.windows\.net$`, ""},
		{`^https://[a-z0-9.-]+\.amazonaws\.com$`, "amazonaws.com"},
		{`^https://(a\.example\.com|b\.example\.net)$`, "example.com"},
		{`^.*$`, ""},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			cfg := `{"allowed_origin_regexes":[` + jsonString(tc.expr) + `],"allow_credentials":true}`
			got, msg := parseErr(t, cfg)
			if len(got) != 1 || got[0] != (problem{"allowed_origin_regexes[0]", policy.ProblemTooBroad}) {
				t.Fatalf("got %v (%s); want one too_broad problem", got, msg)
			}
			m := counterexampleRE.FindStringSubmatch(msg)
			if m == nil || !strings.Contains(msg, "which is outside ") {
				t.Fatalf("%s: no counterexample named", msg)
			}
			cx := m[1]
			if !regexp.MustCompile(tc.expr).MatchString(cx) {
				t.Errorf("%s: the counterexample %q does not match", msg, cx)
			}
			if tc.site != "" && (!strings.Contains(msg, "outside "+tc.site) || siteOf(t, cx) == tc.site) {
				t.Errorf("%s: want a counterexample outside %s", msg, tc.site)
			}
			// Without credentials the same regex is a warning, as "*" is.
			p := parseOK(t, strings.Replace(cfg, `"allow_credentials":true`, `"allow_credentials":false`, 1))
			if w := strings.Join(p.Warnings(), "\n"); !strings.Contains(w, "allowed_origin_regexes[0]") || !strings.Contains(w, cx) {
				t.Errorf("warnings %q; want one naming %q", w, cx)
			}
		})
	}
}

func TestOriginRegexes_otherDefectsRefused(t *testing.T) {
	for _, tc := range []struct {
		desc, cfg string
		problem   policy.Problem
	}{
		{"plain http with credentials", `{"allowed_origin_regexes":["^https?://app\\.example\\.com$"],"allow_credentials":true}`, policy.ProblemCredentials},
		{"any scheme with credentials", `{"allowed_origin_regexes":["^[a-z]+://app\\.example\\.com$"],"allow_credentials":true}`, policy.ProblemTooBroad},
		{"nothing a browser sends", `{"allowed_origin_regexes":["^https://App\\.example\\.com$"]}`, policy.ProblemInvalidOrigin},
		{"a path after the origin", `{"allowed_origin_regexes":["^https://app\\.example\\.com/.*$"]}`, policy.ProblemInvalidOrigin},
		{"too large to prove", `{"allowed_origin_regexes":["^https://[a-z.]*a[a-z.]{16}\\.example\\.com$"],"allow_credentials":true}`, policy.ProblemTooComplex},
		{"an automaton of a state per count", `{"allowed_origin_regexes":["^https://(?:[a-z0-9.-]?){960}\\.example\\.com$"],"allow_credentials":true}`, policy.ProblemTooComplex},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, msg := parseErr(t, tc.cfg)
			if len(got) != 1 || got[0].kind != tc.problem {
				t.Errorf("got %v (%s); want one %s problem", got, msg, tc.problem)
			}
		})
	}
	// With the opt-in, plain http is allowed with credentials.
	parseOK(t, `{"allowed_origin_regexes":["^https?://app\\.example\\.com$"],"allow_credentials":true,"dangerously_allow_insecure_origins_with_credentials":true}`)
}

func TestOriginRegexes_safeFormsAccepted(t *testing.T) {
	for _, expr := range []string{
		`^https://\Qapp.example.com\E$`,
		`^https://(?:www|app)\.example\.com$`,
		`(?i)^https://APP\.EXAMPLE\.COM$`,
		`^https://app\.example\.com(:(443|8443))?$`,
		`^https://app\.example\.com(:\d+)?$`,
		`^https://[a-z0-9-]+\.example\.com$`,
		`^https://([a-z0-9-]+\.)*example\.com(:[0-9]+)?$`,
		`^https://([a-z0-9-]+\.)?example\.co\.uk$`,
		`^https://[a-z0-9-]+\.myteam\.vercel\.app$`,
		`^https://pr-[0-9]+\.preview\.example\.com$`,
		`^http://localhost:[0-9]+$`,
		`^http://127\.0\.0\.1(:\d+)?$`,
	} {
		p := parseOK(t, `{"allowed_origin_regexes":[`+jsonString(expr)+`],"allow_credentials":true}`)
		if w := p.Warnings(); len(w) > 0 {
			t.Errorf("%s: unexpected warnings %q", expr, w)
		}
	}
}

// TestWildcards_wholePublicSuffixList checks "*." patterns over a random
// sample of the whole list, ICANN and private sections alike: refused
// with credentials, a warning without.
func TestWildcards_wholePublicSuffixList(t *testing.T) {
	var rules []string
	psl.All(func(rule string, _ bool) bool {
		if !strings.HasPrefix(rule, "!") && strings.Contains(rule, ".") {
			rules = append(rules, rule)
		}
		return true
	})
	if len(rules) < 5000 {
		t.Fatalf("only %d multi-label rules in the list", len(rules))
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range 300 {
		rule := rules[r.IntN(len(rules))]
		// A wildcard rule "*.x" makes "a.x" a public suffix.
		domain := strings.Replace(rule, "*", "a", 1)
		if _, err := publicsuffix.EffectiveTLDPlusOne(domain); err == nil {
			continue // an exception rule makes it registrable
		}
		pattern := "https://*." + domain
		got, msg := parseErr(t, `{"allowed_origins":["`+pattern+`"],"allow_credentials":true}`)
		if len(got) != 1 || got[0] != (problem{"allowed_origins[0]", policy.ProblemPublicSuffix}) {
			t.Errorf("%s: got %v (%s); want one public_suffix problem", pattern, got, msg)
		}
		p := parseOK(t, `{"allowed_origins":["`+pattern+`"]}`)
		if w := strings.Join(p.Warnings(), "\n"); !strings.Contains(w, "public suffix") {
			t.Errorf("%s: warnings %q; want one naming the public suffix", pattern, w)
		}
		// One label below the suffix is one site: accepted.
		parseOK(t, `{"allowed_origins":["https://*.example.`+domain+`"],"allow_credentials":true}`)
	}
	// A domain with public suffixes below it spans sites too.
	_, msg := parseErr(t, `{"allowed_origins":["https://*.amazonaws.com"],"allow_credentials":true}`)
	if !strings.Contains(msg, "public suffixes below it") {
		t.Errorf("*.amazonaws.com: %s", msg)
	}
}

// TestOriginSets_inheritAsOneAndEmptyMeansNone checks docs/spec.md §2: the
// origin lists form one set for inheritance, and an explicit empty list is
// "none", overriding the top level.
func TestOriginSets_inheritAsOneAndEmptyMeansNone(t *testing.T) {
	p := parseOK(t, `{"allowed_origins":["https://app.example.com"],"allowed_origin_regexes":["^https://[a-z]+\\.example\\.org$"],
		"allowed_methods":["PUT"],"allowed_request_headers":["X-Token"],"exposed_response_headers":["X-Id"],
		"rules":[
			{"name":"narrow","match":{"paths":["/narrow"]},"allowed_origins":["https://app.example.com"]},
			{"name":"regexonly","match":{"paths":["/regex"]},"allowed_origin_regexes":["^https://b\\.example\\.net$"]},
			{"name":"closed","match":{"paths":["/closed"]},"allowed_origins":[]},
			{"name":"safe","match":{"paths":["/safe"]},"allowed_methods":[],"allowed_request_headers":[],"exposed_response_headers":[]},
			{"name":"rest"}]}`)
	cases := []struct {
		path, origin string
		allowed      bool
	}{
		{"/narrow", "https://app.example.com", true},
		{"/narrow", "https://a.example.org", false}, // the top level's regexes are replaced too
		{"/regex", "https://b.example.net", true},
		{"/regex", "https://app.example.com", false}, // and its origins
		{"/closed", "https://app.example.com", false},
		{"/rest", "https://a.example.org", true},
		{"/rest", "https://app.example.com", true},
	}
	for _, tc := range cases {
		r := actual("GET", tc.origin)
		r.Path = tc.path
		if d := p.Decide(&r); (d.Outcome == policy.OutcomeActualAllowed) != tc.allowed {
			t.Errorf("%s from %s: %s; want allowed %v", tc.path, tc.origin, d.Outcome, tc.allowed)
		}
	}
	r := preflight("https://app.example.com", "PUT")
	r.Path = "/safe"
	if d := p.Decide(&r); d.Outcome != policy.OutcomePreflightDeniedMethod {
		t.Errorf("PUT on a rule with allowed_methods []: %s; want denied by method", d.Outcome)
	}
	r = preflight("https://app.example.com", "GET", "x-token")
	r.Path = "/safe"
	if d := p.Decide(&r); d.Outcome != policy.OutcomePreflightDeniedHeaders {
		t.Errorf("X-Token on a rule with allowed_request_headers []: %s; want denied by headers", d.Outcome)
	}
	r = actual("GET", "https://app.example.com")
	r.Path = "/safe"
	d := p.Decide(&r)
	for _, hd := range d.Headers() {
		if strings.EqualFold(hd.Name, "access-control-expose-headers") {
			t.Errorf("exposed_response_headers []: got %s: %s", hd.Name, hd.Value)
		}
	}
	// A rule with only an empty list denies every origin without a sentinel.
	p = parseOK(t, `{"allowed_origins":[],"reject_disallowed_origins":true}`)
	if d := p.Decide(ptr(actual("POST", "https://app.example.com"))); d.Status != 403 {
		t.Errorf("allowed_origins []: %s, status %d; want a 403", d.Outcome, d.Status)
	}
}

func ptr[T any](v T) *T { return &v }

func TestPrivateNetwork_withOpenOriginsNeedsOptIn(t *testing.T) {
	for _, cfg := range []string{
		`{"allowed_origins":["*"],"allow_private_network":true}`,
		`{"allowed_origins":["https://*.github.io"],"allow_private_network":true}`,
		`{"allowed_origin_regexes":["^https://[a-z]+\\.(com|net)$"],"allow_private_network":true}`,
		`{"allowed_origins":["*"],"rules":[{"name":"lan","allow_private_network":true}]}`,
		`{"allowed_origins":["null"],"dangerously_allow_null_origin":true,"allow_private_network":true}`,
	} {
		got, msg := parseErr(t, cfg)
		if len(got) != 1 || got[0].kind != policy.ProblemPrivateNetwork || !strings.Contains(msg, "dangerously_allow_private_network_from_any_origin") {
			t.Errorf("%s: got %v (%s); want one private_network problem naming the opt-in", cfg, got, msg)
		}
		parseOK(t, strings.Replace(cfg, `"allow_private_network":true`, `"allow_private_network":true,"dangerously_allow_private_network_from_any_origin":true`, 1))
	}
	parseOK(t, `{"allowed_origins":["https://app.example.com","https://*.example.com"],"allow_private_network":true}`)
}

// TestBudget_regexTables checks that no configuration can exhaust memory
// with regexes: beyond the budget, the configuration is refused once, and
// the rest is not compiled.
func TestBudget_regexTables(t *testing.T) {
	big := `^/(` + strings.Repeat(`[a-z0-9]`, 60) + `){1,16}$`
	var b strings.Builder
	b.WriteString(`{"allowed_origins":["https://a.example"],"rules":[{"name":"r","match":{"path_regexes":[`)
	for i := range 2000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(big))
	}
	b.WriteString(`]}}]}`)
	got, msg := parseErr(t, b.String())
	if len(got) != 1 || got[0].kind != policy.ProblemOverBudget || !strings.Contains(msg, "MiB of automaton tables") {
		t.Errorf("got %d problems, first %v; want one over_budget problem naming the budget", len(got), got[:min(len(got), 1)])
	}
}

func BenchmarkParse_maxSizeRegexesOverBudget(b *testing.B) {
	big := `^/(` + strings.Repeat(`[a-z0-9]`, 60) + `){1,16}$`
	var sb strings.Builder
	sb.WriteString(`{"allowed_origins":["https://a.example"],"rules":[{"name":"r","match":{"path_regexes":[`)
	for i := range 13000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(jsonString(big))
	}
	sb.WriteString(`]}}]}`)
	cfg := []byte(sb.String())
	for b.Loop() {
		if _, err := policy.Parse(cfg); err == nil {
			b.Fatal("accepted")
		}
	}
}
