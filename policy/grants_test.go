package policy_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
	"github.com/corsfilter/corsfilter/policy/mint"
)

func grantKey(b byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i) + b
	}
	return ed25519.NewKeyFromSeed(seed)
}

func pub(k ed25519.PrivateKey) string {
	return base64.RawURLEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

const grantNow = 1764052800

func mintGrant(t testing.TB, k ed25519.PrivateKey, keyID, origin string, edit func(g *policy.Grant)) string {
	g := &policy.Grant{KeyID: keyID, Origin: origin, IssuedAt: grantNow, ExpiresAt: grantNow + 3600, ID: "g1", Rules: []string{"widget"}}
	if edit != nil {
		edit(g)
	}
	tok, err := mint.Grant(k, g)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func grantPolicy(t testing.TB, extra string) *policy.Policy {
	cfg := `{"rules":[{"name":"widget","allowed_origins":["https://static.example"],"allowed_methods":["PUT"],"allow_credentials":true,
		"grants":{"keys":[{"id":"k1","ed25519_public_key":"` + pub(grantKey(0)) + `"},{"id":"k2","ed25519_public_key":"` + pub(grantKey(1)) + `"}],"revoked":["bad"]` + extra + `}},
		{"name":"other","allowed_origins":[]}]}`
	p, err := policy.Parse([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGrants_decide(t *testing.T) {
	p := grantPolicy(t, "")
	k1, k2 := grantKey(0), grantKey(1)
	good := mintGrant(t, k1, "k1", "https://customer.example", nil)
	for _, tc := range []struct {
		name    string
		req     policy.Request
		outcome policy.Outcome
		grant   policy.GrantOutcome
		acac    bool
	}{
		{"preflight", withGrant(preflight("https://customer.example", "PUT"), good), policy.OutcomePreflightAllowed, policy.GrantAdmitted, false},
		{"actual", withGrant(actual("GET", "https://customer.example"), good), policy.OutcomeActualAllowed, policy.GrantAdmitted, false},
		{"second key", withGrant(actual("GET", "https://customer.example"), mintGrant(t, k2, "k2", "https://customer.example", nil)), policy.OutcomeActualAllowed, policy.GrantAdmitted, false},
		{"credentials", withGrant(actual("GET", "https://customer.example"), mintGrant(t, k1, "k1", "https://customer.example", func(g *policy.Grant) { g.Credentials = true })), policy.OutcomeActualAllowed, policy.GrantAdmitted, true},
		{"rule's methods still apply", withGrant(preflight("https://customer.example", "DELETE"), good), policy.OutcomePreflightDeniedMethod, policy.GrantAdmitted, false},
		{"no grant", actual("GET", "https://customer.example"), policy.OutcomeActualDenied, policy.GrantNone, false},
		{"malformed", withGrant(actual("GET", "https://customer.example"), "v1.x"), policy.OutcomeActualDenied, policy.GrantMalformed, false},
		{"twice", withGrant(withGrant(actual("GET", "https://customer.example"), good), good), policy.OutcomeActualDenied, policy.GrantMalformed, false},
		{"unknown key", withGrant(actual("GET", "https://customer.example"), mintGrant(t, k1, "k3", "https://customer.example", nil)), policy.OutcomeActualDenied, policy.GrantUnknownKey, false},
		{"bad signature", withGrant(actual("GET", "https://customer.example"), mintGrant(t, k2, "k1", "https://customer.example", nil)), policy.OutcomeActualDenied, policy.GrantBadSignature, false},
		{"revoked", withGrant(actual("GET", "https://customer.example"), mintGrant(t, k1, "k1", "https://customer.example", func(g *policy.Grant) { g.ID = "bad" })), policy.OutcomeActualDenied, policy.GrantRevoked, false},
		{"expired", at(withGrant(actual("GET", "https://customer.example"), good), grantNow+3600+60), policy.OutcomeActualDenied, policy.GrantExpired, false},
		{"not yet valid", at(withGrant(actual("GET", "https://customer.example"), good), grantNow-61), policy.OutcomeActualDenied, policy.GrantNotYetValid, false},
		{"origin mismatch", withGrant(preflight("https://other.example", "PUT"), good), policy.OutcomePreflightDeniedOrigin, policy.GrantOriginMismatch, false},
		{"out of scope method", withGrant(preflight("https://customer.example", "PUT"), mintGrant(t, k1, "k1", "https://customer.example", func(g *policy.Grant) { g.Methods = []string{"PATCH"} })), policy.OutcomePreflightDeniedOrigin, policy.GrantOutOfScope, false},
		{"out of scope rule", withGrant(actual("GET", "https://customer.example"), mintGrant(t, k1, "k1", "https://customer.example", func(g *policy.Grant) { g.Rules = []string{"api"} })), policy.OutcomeActualDenied, policy.GrantOutOfScope, false},
		{"static origin needs none", withGrant(actual("GET", "https://static.example"), "junk"), policy.OutcomeActualAllowed, policy.GrantNone, true},
	} {
		r := tc.req
		if r.Now == 0 {
			r.Now = grantNow + 10
		}
		d := p.Decide(&r)
		if d.Outcome != tc.outcome || d.Grant != tc.grant {
			t.Errorf("%s: %v/%v (%s), want %v/%v", tc.name, d.Outcome, d.Grant, d.Reason, tc.outcome, tc.grant)
			continue
		}
		acao, acac := "", false
		for _, h := range d.Headers() {
			switch h.Name {
			case "access-control-allow-origin":
				acao = h.Value
			case "access-control-allow-credentials":
				acac = true
			}
		}
		if !d.Outcome.Denied() && acao != r.Origin[0] {
			t.Errorf("%s: ACAO %q", tc.name, acao)
		}
		if acac != tc.acac {
			t.Errorf("%s: credentials %v, want %v", tc.name, acac, tc.acac)
		}
		if d.Outcome.Denied() && tc.grant > policy.GrantAdmitted && !strings.Contains(d.Reason, "grant") {
			t.Errorf("%s: reason %q does not name the grant", tc.name, d.Reason)
		}
	}
}

func withGrant(r policy.Request, tok string) policy.Request {
	sep := "?"
	if strings.Contains(r.Path, "?") {
		sep = "&"
	}
	r.Path += sep + "cors_grant=" + tok
	return r
}

func at(r policy.Request, now int64) policy.Request { r.Now = now; return r }

func TestGrants_allocateNothing(t *testing.T) {
	p := grantPolicy(t, "")
	r := withGrant(preflight("https://customer.example", "PUT"), mintGrant(t, grantKey(0), "k1", "https://customer.example", nil))
	r.Now = grantNow + 10
	buf := make([]byte, 0, 2048)
	if n := testing.AllocsPerRun(100, func() {
		d := p.Decide(&r)
		if d.Grant != policy.GrantAdmitted {
			t.Fatal(d.Reason)
		}
		if _, ok := p.StripGrant(&d, r.Path, buf[:0]); !ok {
			t.Fatal("not stripped")
		}
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func TestGrants_strip(t *testing.T) {
	p := grantPolicy(t, "")
	for path, want := range map[string]string{
		"/a?cors_grant=x":               "/a",
		"/a?b=1&cors_grant=x&c=2":       "/a?b=1&c=2",
		"/a?cors_grant=x&cors_grant=y":  "/a",
		"/a?cors_grant":                 "/a",
		"/a?cors_grants=1&cors_grant=x": "/a?cors_grants=1",
		"/a?b=1":                        "",
		"/a":                            "",
	} {
		r := actual("GET", "https://customer.example")
		r.Path = path
		d := p.Decide(&r)
		got, ok := p.StripGrant(&d, path, nil)
		if !ok {
			got = []byte("")
		}
		if string(got) != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	q := grantPolicy(t, `,"strip_parameter":false,"query_parameter":"g"`)
	r := actual("GET", "https://customer.example")
	r.Path = "/a?g=1"
	d := q.Decide(&r)
	if _, ok := q.StripGrant(&d, r.Path, nil); ok {
		t.Error("stripped with strip_parameter false")
	}
}

func TestGrants_config(t *testing.T) {
	k := pub(grantKey(0))
	for _, tc := range []struct {
		grants string
		paths  []string
	}{
		{`{}`, []string{"rules[0].grants"}},
		{`{"keys":[]}`, []string{"rules[0].grants.keys"}},
		{`{"keys":[{"id":"k1"}]}`, []string{"rules[0].grants.keys[0]"}},
		{`{"keys":[{"id":"k1","ed25519_public_key":"AAAA"}]}`, []string{"rules[0].grants.keys[0].ed25519_public_key"}},
		{`{"keys":[{"id":"k1","ed25519_public_key":"` + k + `"},{"id":"k1","ed25519_public_key":"` + k + `"}]}`, []string{"rules[0].grants.keys[1].id"}},
		{`{"keys":[{"id":"k 1","ed25519_public_key":"` + k + `","extra":1}],"query_parameter":"a=b","max_ttl_seconds":0,"clock_skew_seconds":-1,"revoked":[""],"strip_parameter":"yes","kyes":1}`,
			[]string{"rules[0].grants.keys[0].id", "rules[0].grants.keys[0].extra", "rules[0].grants.query_parameter", "rules[0].grants.max_ttl_seconds",
				"rules[0].grants.clock_skew_seconds", "rules[0].grants.revoked[0]", "rules[0].grants.strip_parameter", "rules[0].grants.kyes"}},
		{`[]`, []string{"rules[0].grants"}},
	} {
		_, err := policy.Parse([]byte(`{"rules":[{"name":"w","allowed_origins":[],"grants":` + tc.grants + `}]}`))
		var got []string
		for e := range policy.Errors(err) {
			got = append(got, e.Path)
		}
		if strings.Join(got, " ") != strings.Join(tc.paths, " ") {
			t.Errorf("%s: errors at %v, want %v (%v)", tc.grants, got, tc.paths, err)
		}
	}
	// Standard base64 with padding is accepted too; grants alone are enough origins.
	std := base64.StdEncoding.EncodeToString(grantKey(0).Public().(ed25519.PublicKey))
	p, err := policy.Parse([]byte(`{"rules":[{"name":"w","grants":{"keys":[{"id":"k1","ed25519_public_key":"` + std + `"}]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.UsesGrants() || !strings.Contains(p.String(), `"grants":{"keys":[{"id":"k1","ed25519_public_key":"`+k+`"}],"query_parameter":"cors_grant","max_ttl_seconds":86400,"clock_skew_seconds":60,"strip_parameter":true,"max_verifications_per_second":200}`) {
		t.Errorf("String: %s", p.String())
	}
	if _, err := policy.Parse([]byte(p.String())); err != nil {
		t.Errorf("String does not parse: %v", err)
	}
}

func TestGrants_verificationBudgetConfig(t *testing.T) {
	k := pub(grantKey(0))
	g := func(extra string) string {
		return `{"keys":[{"id":"k1","ed25519_public_key":"` + k + `"}]` + extra + `}`
	}
	for _, tc := range []struct {
		cfg   string
		paths []string
		want  int
	}{
		{`{"rules":[{"name":"w","grants":` + g(``) + `}]}`, nil, 200},
		{`{"rules":[{"name":"w","grants":` + g(`,"max_verifications_per_second":50`) + `}]}`, nil, 50},
		// One budget per VM: given once, it holds for every rule.
		{`{"grants":` + g(`,"max_verifications_per_second":50`) + `,"rules":[{"name":"a"},{"name":"b","grants":` + g(``) + `}]}`, nil, 50},
		{`{"grants":` + g(`,"max_verifications_per_second":50`) + `,"rules":[{"name":"a"},{"name":"b","grants":` + g(`,"max_verifications_per_second":50`) + `}]}`, nil, 50},
		{`{"grants":` + g(`,"max_verifications_per_second":50`) + `,"rules":[{"name":"a"},{"name":"b","grants":` + g(`,"max_verifications_per_second":60`) + `}]}`,
			[]string{"rules[1].grants.max_verifications_per_second"}, 0},
		{`{"rules":[{"name":"w","allowed_origins":[],"grants":` + g(`,"max_verifications_per_second":0`) + `}]}`, []string{"rules[0].grants.max_verifications_per_second"}, 0},
		{`{"rules":[{"name":"w","allowed_origins":[],"grants":` + g(`,"max_verifications_per_second":10001`) + `}]}`, []string{"rules[0].grants.max_verifications_per_second"}, 0},
		{`{"rules":[{"name":"w","allowed_origins":[],"grants":` + g(`,"max_verifications_per_second":"9"`) + `}]}`, []string{"rules[0].grants.max_verifications_per_second"}, 0},
		{`{"rules":[{"name":"w","allowed_origins":[]}]}`, nil, 0},
	} {
		p, err := policy.Parse([]byte(tc.cfg))
		var got []string
		for e := range policy.Errors(err) {
			got = append(got, e.Path)
		}
		if strings.Join(got, " ") != strings.Join(tc.paths, " ") {
			t.Errorf("%s: errors at %v, want %v (%v)", tc.cfg, got, tc.paths, err)
		}
		if err != nil {
			continue
		}
		if p.GrantBudget() != tc.want || (p.NewGrantCache() != nil) != (tc.want > 0) {
			t.Errorf("%s: budget %d, cache %v; want %d", tc.cfg, p.GrantBudget(), p.NewGrantCache(), tc.want)
		}
		// The effective configuration says it, and parses to the same.
		if q, err := policy.Parse([]byte(p.String())); err != nil || q.GrantBudget() != tc.want {
			t.Errorf("%s: String %s parses to budget %d, %v", tc.cfg, p.String(), q.GrantBudget(), err)
		}
	}
}

// TestGrants_budget decides through a VM's cache: the first grant is
// verified and cached, forged ones are verified up to the budget, then busy,
// with a reason of their own in x-cors-debug; the cached grant keeps
// passing.
func TestGrants_budget(t *testing.T) {
	p, err := policy.Parse([]byte(`{"rules":[{"name":"widget","allowed_origins":[],"allowed_methods":["PUT"],"debug":true,
		"grants":{"keys":[{"id":"k1","ed25519_public_key":"` + pub(grantKey(0)) + `"}],"max_verifications_per_second":2}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cache := p.NewGrantCache()
	good := mintGrant(t, grantKey(0), "k1", "https://customer.example", nil)
	forged := mintGrant(t, grantKey(1), "k1", "https://customer.example", nil)
	decide := func(tok string, now int64) policy.Decision {
		r := withGrant(preflight("https://customer.example", "PUT"), tok)
		r.Now, r.Grants = now, cache
		return p.Decide(&r)
	}
	if d := decide(good, grantNow+10); d.Grant != policy.GrantAdmitted {
		t.Fatalf("good grant: %v (%s)", d.Grant, d.Reason)
	}
	var outcomes []string
	for range 4 {
		outcomes = append(outcomes, decide(forged, grantNow+10).Grant.String())
		if d := decide(good, grantNow+10); d.Grant != policy.GrantAdmitted || d.Outcome != policy.OutcomePreflightAllowed {
			t.Fatalf("cached good grant during the flood: %v (%s)", d.Grant, d.Reason)
		}
	}
	if got := strings.Join(outcomes, " "); got != "bad_signature busy busy busy" {
		t.Errorf("forged grants: %s; want one verified (the good grant took the other), then busy", got)
	}
	d := decide(forged, grantNow+10)
	if d.Outcome != policy.OutcomePreflightDeniedOrigin || !strings.Contains(d.Reason, "verification budget") {
		t.Errorf("busy: %v, reason %q", d.Outcome, d.Reason)
	}
	dbg := ""
	for _, h := range d.Headers() {
		if h.Name == "x-cors-debug" {
			dbg = h.Value
		}
	}
	if !strings.Contains(dbg, "budget") {
		t.Errorf("x-cors-debug %q does not say the budget is spent", dbg)
	}
	// A new second: verified again.
	if d := decide(forged, grantNow+11); d.Grant != policy.GrantBadSignature {
		t.Errorf("next second: %v", d.Grant)
	}
	// Busy allocates nothing either.
	decide(forged, grantNow+11) // the second's last verification
	r := withGrant(preflight("https://customer.example", "PUT"), forged)
	r.Now, r.Grants = grantNow+11, cache
	var dd policy.Decision
	if n := testing.AllocsPerRun(100, func() {
		p.DecideInto(&r, &dd)
		if dd.Grant != policy.GrantBusy {
			t.Fatal(dd.Grant)
		}
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// TestGrants_plainHTTPOriginGetsNoCredentials: a grant admits a plain-http
// origin on a credentialed rule, but without credentials, as a listed
// http origin is refused with them; a loopback one keeps them, as browsers
// trust it.
func TestGrants_plainHTTPOriginGetsNoCredentials(t *testing.T) {
	priv := grantKey(0)
	pub := base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
	p := parseOK(t, `{"rules":[{"name":"widget","allowed_origins":["https://app.example"],"allow_credentials":true,"allowed_methods":["PUT"],
		"grants":{"keys":[{"id":"k1","ed25519_public_key":"`+pub+`"}]}}]}`)
	const now = 1_800_000_000
	for _, tc := range []struct {
		origin      string
		credentials bool
	}{{"http://partner.example", false}, {"https://partner.example", true}, {"http://localhost:3000", true}} {
		tok, err := mint.Grant(priv, &policy.Grant{KeyID: "k1", Origin: tc.origin, IssuedAt: now, ExpiresAt: now + 600, ID: "g", Credentials: true, Rules: []string{"widget"}})
		if err != nil {
			t.Fatal(err)
		}
		r := &policy.Request{Method: "OPTIONS", Scheme: "https", Authority: "api.example", Path: "/x?cors_grant=" + tok,
			Origin: []string{tc.origin}, ACRM: []string{"PUT"}, Now: now}
		d := p.Decide(r)
		if d.Outcome != policy.OutcomePreflightAllowed {
			t.Fatalf("%s: %v (%s); want the grant to admit it", tc.origin, d.Outcome, d.Reason)
		}
		acac := false
		for _, h := range d.Headers() {
			acac = acac || strings.EqualFold(h.Name, "access-control-allow-credentials")
		}
		if acac != tc.credentials {
			t.Errorf("%s: credentials %v; want %v (headers %v)", tc.origin, acac, tc.credentials, d.Headers())
		}
	}
}
