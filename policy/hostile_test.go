package policy_test

import (
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// hugeOrigin is a 64 KiB Origin value, far longer than any serialized
// origin, that every pattern kind could otherwise be asked to scan.
var hugeOrigin = "https://" + strings.Repeat("a", 64<<10-len("https://.example.com")) + ".example.com"

func Test_that_an_oversized_origin_is_malformed_on_every_rule(t *testing.T) {
	const reason = "malformed, oversized or repeated Origin header"
	sameOrigin := func(r policy.Request) policy.Request { r.SecFetchSite = "same-origin"; return r }
	cases := []struct {
		desc    string
		cfg     string
		req     policy.Request
		outcome policy.Outcome
	}{
		{"preflight, any origin", cfgAny, preflight(hugeOrigin, "PUT"), policy.OutcomePreflightDeniedOrigin},
		{"preflight, regex", cfgRegex, preflight(hugeOrigin, "GET"), policy.OutcomePreflightDeniedOrigin},
		{"preflight, patterns", cfgCreds, preflight(hugeOrigin, "PUT"), policy.OutcomePreflightDeniedOrigin},
		{"actual, any origin", cfgAny, actual("GET", hugeOrigin), policy.OutcomeActualDenied},
		{"actual, patterns", cfgCreds, actual("GET", hugeOrigin), policy.OutcomeActualDenied},
		{"actual, Sec-Fetch-Site same-origin", cfgReject, sameOrigin(actual("POST", hugeOrigin)), policy.OutcomeActualDenied},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			t.Parallel()
			p, err := policy.Parse([]byte(tc.cfg))
			if err != nil {
				t.Fatal(err)
			}
			d := p.Decide(&tc.req)
			if d.Outcome != tc.outcome || d.Reason != reason || len(d.Headers()) != 0 {
				t.Errorf("Decide(%d-byte origin): got %v %q %v; want %v %q and no header",
					len(hugeOrigin), d.Outcome, d.Reason, d.Headers(), tc.outcome, reason)
			}
		})
	}
}

func Test_that_AddHeader_does_not_copy_hostile_headers(t *testing.T) {
	longName := "X-" + strings.Repeat("A", 64<<10)
	longProto := strings.Repeat("HTTPS", 64<<10/5)
	var r policy.Request
	if n := testing.AllocsPerRun(100, func() {
		r.AddHeader(longName, "v")
		r.AddHeader("X-Forwarded-Proto", longProto)
	}); n != 0 {
		t.Errorf("AddHeader on hostile headers: %v allocations; want 0", n)
	}
	if r.ForwardedProto != "" {
		t.Errorf("ForwardedProto = %d bytes; want a value longer than a scheme ignored", len(r.ForwardedProto))
	}
	r = policy.Request{}
	r.AddHeader("Access-Control-Request-Private-Network", "true") // the longest recorded name
	r.AddHeader("ORIGIN", "https://app.example.com")
	r.AddHeader("X-Forwarded-Proto", " HTTPS , http")
	if len(r.ACRPN) != 1 || len(r.Origin) != 1 || r.ForwardedProto != "https" {
		t.Errorf("AddHeader on mixed-case names: got ACRPN %q, Origin %q, ForwardedProto %q", r.ACRPN, r.Origin, r.ForwardedProto)
	}
}

func Test_that_a_wildcard_does_not_echo_an_oversized_method(t *testing.T) {
	p, err := policy.Parse([]byte(cfgAny))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("M", 64<<10)
	r := preflight("https://app.example.com", long)
	if d := p.Decide(&r); d.Outcome != policy.OutcomePreflightDeniedMethod || len(d.Headers()) != 0 {
		t.Errorf("Decide(preflight for a %d-byte method): got %v %v; want preflight_denied_method and no header", len(long), d.Outcome, d.Headers())
	}
	r = preflight("https://app.example.com", strings.Repeat("M", 64))
	if d := p.Decide(&r); d.Outcome != policy.OutcomePreflightAllowed {
		t.Errorf("Decide(preflight for a 64-byte method): got %v; want preflight_allowed", d.Outcome)
	}
}

func TestQuoteTruncated(t *testing.T) {
	const tmpl = "policy.QuoteTruncated(%q, %d): got %s; want %s"
	cases := []struct {
		s    string
		n    int
		want string
	}{
		{"https://app.example.com", 64, `"https://app.example.com"`},
		{"https://app.example.com", 23, `"https://app.example.com"`},
		{"https://app.example.com", 8, `"https://"…(23 bytes)`},
		{"ab\u20ac\u20ac", 3, `"ab"…(8 bytes)`}, // not inside the euro sign
		{"ab\u20ac\u20ac", 5, `"ab€"…(8 bytes)`},
		{"\x00\"\\x", 3, `"\u0000\"\\"…(4 bytes)`},
		{"\xff\xff\xff\xff\xff\xff", 4, `"\ufffd\ufffd\ufffd\ufffd"…(6 bytes)`},
		{"abc", 0, `""…(3 bytes)`},
		// DEL, a line separator and a right-to-left override are escaped:
		// printed, they would make a log line read otherwise than it is.
		{"a\x7fb\u2028c\u202eelpmaxe", 64, `"a\u007fb\u2028c\u202eelpmaxe"`},
	}
	for _, tc := range cases {
		if got := policy.QuoteTruncated(tc.s, tc.n); got != tc.want {
			t.Errorf(tmpl, tc.s, tc.n, got, tc.want)
		}
	}
	if got := policy.QuoteTruncated(hugeOrigin, 64); len(got) > 100 {
		t.Errorf("policy.QuoteTruncated(%d-byte origin, 64): %d bytes; want at most 100", len(hugeOrigin), len(got))
	}
}
