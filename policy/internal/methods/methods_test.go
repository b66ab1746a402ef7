package methods

import "testing"

func TestClassification(t *testing.T) {
	for _, tc := range []struct {
		m                     string
		safelisted, forbidden bool
		normalized            string
	}{
		{"GET", true, false, "GET"},
		{"get", false, false, "GET"},
		{"POST", true, false, "POST"},
		{"PATCH", false, false, "PATCH"},
		{"patch", false, false, "patch"},
		{"delete", false, false, "DELETE"},
		{"CONNECT", false, true, "CONNECT"},
		{"track", false, true, "track"},
		{"Trace", false, true, "Trace"},
	} {
		if IsSafelisted(tc.m) != tc.safelisted || IsForbidden(tc.m) != tc.forbidden || Normalized(tc.m) != tc.normalized {
			t.Errorf("%q: safelisted %v forbidden %v normalized %q; want %v %v %q", tc.m,
				IsSafelisted(tc.m), IsForbidden(tc.m), Normalized(tc.m), tc.safelisted, tc.forbidden, tc.normalized)
		}
	}
}
