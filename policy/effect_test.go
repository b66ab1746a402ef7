package policy_test

import (
	"slices"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// TestDecision_response checks the edits of a forwarded response: the
// upstream's CORS headers go, the decision's come, and one Vary merges both.
func TestDecision_response(t *testing.T) {
	p := parseOK(t, cfgCreds)
	r := actual("PUT", "https://app.example.com")
	d := p.Decide(&r)
	cases := []struct {
		desc       string
		upstream   []policy.Header
		remove     []string
		vary       string // the Vary set; "" when Vary is left alone
		overridden bool
	}{
		{"no headers", nil, nil, "Origin", false},
		{"permissive upstream", h("Access-Control-Allow-Origin", "*", "access-control-max-age", "86400", "content-type", "text/plain"),
			// One line of a header the decision sets: replacing it is enough.
			[]string{"access-control-max-age"}, "Origin", true},
		{"repeated CORS header", h("access-control-allow-origin", "a", "access-control-allow-origin", "b"),
			[]string{"access-control-allow-origin"}, "Origin", true},
		{"one Vary line", h("Vary", "Accept-Encoding"), nil, "Accept-Encoding, Origin", false},
		{"Vary that says it all", h("vary", "Accept-Encoding, Origin"), nil, "", false},
		{"two Vary lines", h("vary", "Accept", "Vary", "origin"), []string{"vary"}, "Accept, origin", false},
		{"Vary *", h("vary", "*"), nil, "", false},
	}
	var e policy.Edits
	for _, tc := range cases {
		d.Response(tc.upstream, &e)
		if !slices.Equal(e.Remove, tc.remove) || e.Overridden != tc.overridden {
			t.Errorf("%s: Remove %q, Overridden %v; want %q, %v", tc.desc, e.Remove, e.Overridden, tc.remove, tc.overridden)
		}
		want := append([]policy.Header(nil), d.Headers()...)
		if tc.vary != "" {
			want = append(want, policy.Header{Name: "vary", Value: tc.vary})
		}
		if !slices.Equal(e.Set, want) {
			t.Errorf("%s: Set %q; want %q", tc.desc, e.Set, want)
		}
	}
	if got := d.Reply(nil); len(got) != len(d.Headers())+1 || got[len(got)-1] != (policy.Header{Name: "vary", Value: "Origin"}) {
		t.Errorf("Reply: %q", got)
	}
}

// TestDecision_responseAllocatesNothing checks that a filter reusing its
// Edits edits responses without allocating.
func TestDecision_responseAllocatesNothing(t *testing.T) {
	p := parseOK(t, cfgCreds)
	r := actual("PUT", "https://app.example.com")
	d := p.Decide(&r)
	upstream := h("access-control-allow-origin", "*", "vary", "Accept", "vary", "Accept-Encoding", "content-type", "text/plain")
	var e policy.Edits
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() {
		r.Reset()
		r.AddHeader(":method", "PUT")
		r.AddHeader("origin", "https://app.example.com")
		d = p.Decide(&r)
		d.Detach(buf[:0])
		d.Response(upstream, &e)
	}); n != 0 {
		t.Errorf("%v allocations per request; want 0", n)
	}
}
