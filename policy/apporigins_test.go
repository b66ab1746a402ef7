package policy_test

import (
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// TestAppOrigins: exact origins of extensions and app web views are
// allowed, with credentials too; wildcards and malformed forms over these
// schemes are refused; a credentialed regex over them must still stay
// within one origin's site; null stays behind its opt-in.
func TestAppOrigins(t *testing.T) {
	for _, tc := range []struct {
		scheme, exact, other string
		refused              []string
	}{
		{"chrome-extension", "chrome-extension://abcdefghijklmnopabcdefghijklmnop", "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba",
			[]string{"chrome-extension://*", "chrome-extension://*.abcdefghijklmnopabcdefghijklmnop", "chrome-extension://abcdefghijklmnopabcdefghijklmnop:*",
				"chrome-extension://ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP", "chrome-extension://abcdefghijklmnopabcdefghijklmnoz", "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"}},
		{"moz-extension", "moz-extension://0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "moz-extension://1f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
			[]string{"moz-extension://*", "moz-extension://0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "moz-extension://0f1e2d3c4b5a69788796a5b4c3d2e1f0"}},
		{"safari-web-extension", "safari-web-extension://0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "safari-web-extension://1F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
			[]string{"safari-web-extension://*", "safari-web-extension://*.0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "safari-web-extension://com.example.ext"}},
		{"capacitor", "capacitor://localhost", "capacitor://app.example",
			[]string{"capacitor://*", "capacitor://*.localhost", "capacitor://localhost:*", "capacitor://localhost:8080", "capacitor://Localhost", "capacitor://localhost/"}},
		{"ionic", "ionic://localhost", "ionic://app.example",
			[]string{"ionic://*", "ionic://*.localhost", "ionic://localhost:1", "ionic://"}},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			p, err := policy.Parse([]byte(`{"allowed_origins":["` + tc.exact + `"],"allow_credentials":true}`))
			if err != nil {
				t.Fatal(err)
			}
			r := actual("GET", tc.exact)
			if d := p.Decide(&r); d.Outcome != policy.OutcomeActualAllowed {
				t.Errorf("%s: %v (%s)", tc.exact, d.Outcome, d.Reason)
			}
			r = actual("GET", tc.other)
			if d := p.Decide(&r); d.Outcome != policy.OutcomeActualDenied {
				t.Errorf("%s: %v; want denied", tc.other, d.Outcome)
			}
			for _, o := range tc.refused {
				if _, err := policy.Parse([]byte(`{"allowed_origins":["` + o + `"]}`)); err == nil {
					t.Errorf("%s: accepted", o)
				}
			}
			// A credentialed regex over the scheme that admits more than
			// one extension or app is refused by the one-site proof.
			re := `^` + tc.scheme + `://.+$`
			if _, err := policy.Parse([]byte(`{"allowed_origin_regexes":["` + re + `"],"allow_credentials":true}`)); err == nil {
				t.Errorf("credentialed regex %s: accepted", re)
			}
		})
	}
	if _, err := policy.Parse([]byte(`{"allowed_origins":["null"]}`)); err == nil {
		t.Error("null accepted without its opt-in")
	}
}
