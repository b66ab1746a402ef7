package policy_test

import (
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

func FuzzParse(f *testing.F) {
	for _, tc := range invalidConfigs {
		f.Add([]byte(tc.input))
	}
	for _, tc := range validConfigs {
		f.Add([]byte(tc.input))
	}
	f.Fuzz(func(t *testing.T, config []byte) {
		p, err := policy.Parse(config)
		if err != nil {
			if p != nil {
				t.Fatal("Parse returned both a policy and an error")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "cors: ") {
					t.Fatalf("error line %q lacks the cors: prefix", line)
				}
			}
			return
		}
		again, err := policy.Parse([]byte(p.String()))
		if err != nil {
			t.Fatalf("the effective form %s does not parse again: %v", p, err)
		}
		if again.String() != p.String() {
			t.Fatalf("round trip changed the policy:\n%s\n%s", p, again)
		}
	})
}

// oracle is a deliberately naive, independent statement of which origins a
// list of canonical origin patterns admits: plain string comparisons, no
// parsing shared with the code under test.
type oracle []string

func (o oracle) allows(origin string) bool {
	for _, pat := range o {
		if pat == "*" || pat == origin {
			return true
		}
		scheme, rest, ok := strings.Cut(pat, "://")
		if !ok || !strings.HasPrefix(origin, scheme+"://") {
			continue
		}
		hostPort := origin[len(scheme)+3:]
		host, port := hostPort, ""
		if i := strings.LastIndexByte(hostPort, ':'); i >= 0 && !strings.HasSuffix(hostPort, "]") {
			host, port = hostPort[:i], hostPort[i+1:]
		}
		phost, pport := rest, ""
		if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
			phost, pport = rest[:i], rest[i+1:]
		}
		if pport == "*" {
			if port != "" && strings.Trim(port, "0123456789") != "" {
				continue
			}
		} else if port != pport {
			continue
		}
		if base, wild := strings.CutPrefix(phost, "*."); wild {
			sub, ok := strings.CutSuffix(host, "."+base)
			if ok && sub != "" && validLabels(sub) {
				return true
			}
		} else if host == phost {
			return true
		}
	}
	return false
}

func validLabels(s string) bool {
	for _, l := range strings.Split(s, ".") {
		if l == "" || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}

var fuzzConfigs = []struct {
	cfg        string
	origins    oracle
	creds      bool
	methods    []string // "*" for any
	authHeader bool     // Authorization may be requested
}{
	{cfgSimple, oracle{"https://app.example.com"}, false, nil, false},
	{cfgCreds, oracle{"https://app.example.com", "https://*.example.org", "http://localhost:*"}, true, []string{"PUT", "DELETE"}, false},
	{cfgCredsWild, oracle{"https://app.example.com"}, true, []string{"*"}, false},
	{cfgCredsAuth, oracle{"https://app.example.com"}, true, nil, true},
	{cfgAny, oracle{"*"}, false, []string{"*"}, false},
	{cfgReject, oracle{"https://app.example.com"}, false, nil, false},
}

// FuzzDecide checks that Decide never panics, never grants an origin that
// the independent oracle refuses, and never allows a preflight for a method
// or header the policy does not allow.
func FuzzDecide(f *testing.F) {
	for _, tc := range decideCases {
		for i := range fuzzConfigs {
			o, m, acrm, acrh := "", tc.req.Method, "", ""
			if len(tc.req.Origin) > 0 {
				o = tc.req.Origin[0]
			}
			if len(tc.req.ACRM) > 0 {
				acrm = tc.req.ACRM[0]
			}
			if len(tc.req.ACRH) > 0 {
				acrh = tc.req.ACRH[0]
			}
			f.Add(uint8(i), m, o, acrm, acrh)
		}
	}
	policies := make([]*policy.Policy, len(fuzzConfigs))
	for i, c := range fuzzConfigs {
		p, err := policy.Parse([]byte(c.cfg))
		if err != nil {
			f.Fatal(err)
		}
		policies[i] = p
	}
	f.Fuzz(func(t *testing.T, cfg uint8, method, origin, acrm, acrh string) {
		i := int(cfg) % len(fuzzConfigs)
		c := fuzzConfigs[i]
		r := policy.Request{Method: method, Scheme: "https", Authority: "api.example.com", Path: "/", Origin: []string{origin}}
		if acrm != "" {
			r.ACRM = []string{acrm}
		}
		if acrh != "" {
			r.ACRH = []string{acrh}
		}
		d := policies[i].Decide(&r)
		granted := ""
		for _, hd := range d.Headers() {
			if hd.Name == "access-control-allow-origin" {
				granted = hd.Value
			}
		}
		switch {
		case granted == "":
		case granted == "*":
			if c.creds || !c.origins.allows(origin) {
				t.Fatalf("%s: ACAO * granted to %q", c.cfg, origin)
			}
		case granted != origin:
			t.Fatalf("%s: ACAO %q is not the request's origin %q", c.cfg, granted, origin)
		case !c.origins.allows(origin):
			t.Fatalf("%s: origin %q granted, but the oracle refuses it", c.cfg, origin)
		}
		if d.Outcome != policy.OutcomePreflightAllowed {
			return
		}
		if acrm != "GET" && acrm != "HEAD" && acrm != "POST" {
			ok := false
			for _, m := range c.methods {
				ok = ok || m == "*" || m == acrm
			}
			if !ok {
				t.Fatalf("%s: method %q allowed", c.cfg, acrm)
			}
		}
		if !c.authHeader {
			for _, name := range strings.Split(acrh, ",") {
				if strings.EqualFold(strings.TrimSpace(name), "authorization") {
					t.Fatalf("%s: Authorization allowed in %q", c.cfg, acrh)
				}
			}
		}
	})
}

// FuzzOriginPattern checks the compiled matcher against the oracle for any
// pattern that Parse accepts.
func FuzzOriginPattern(f *testing.F) {
	seeds := [][2]string{
		{"https://*.example.com", "https://a.example.com"},
		{"https://*.example.com", "https://example.com"},
		{"https://*.example.com", "https://a.b.example.com"},
		{"https://*.example.com:*", "https://a.example.com:8443"},
		{"http://localhost:*", "http://localhost:3000"},
		{"http://localhost:*", "http://localhost"},
		{"https://app.example.com", "https://app.example.com"},
		{"http://[::1]:3000", "http://[::1]:3000"},
		{"https://*.example.co.uk", "https://x.example.co.uk.evil.test"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, origin string) {
		if strings.ContainsAny(pattern, "\"\\") {
			return
		}
		p, err := policy.Parse([]byte(`{"allowed_origins":["` + pattern + `"],"dangerously_allow_null_origin":true}`))
		if err != nil {
			return
		}
		r := policy.Request{Method: "GET", Origin: []string{origin}}
		d := p.Decide(&r)
		if d.Outcome == policy.OutcomeActualAllowed && !(oracle{pattern}).allows(origin) {
			t.Fatalf("pattern %q granted origin %q", pattern, origin)
		}
	})
}
