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
