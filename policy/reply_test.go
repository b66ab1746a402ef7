package policy_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// TestDecision_localReply checks the edits of the filter's own local reply
// as Envoy hands it back: only the decision's CORS headers stay, whatever a
// route added before them or joined into them.
func TestDecision_localReply(t *testing.T) {
	p := parseOK(t, `{"allowed_origins":["https://app.example.com"],"allow_credentials":true,"allowed_methods":["PUT"],"debug":true}`)
	allowed := preflight("https://app.example.com", "PUT")
	denied := preflight("https://evil.example", "PUT")
	const (
		acao = "access-control-allow-origin"
		acac = "access-control-allow-credentials"
		acam = "access-control-allow-methods"
		app  = "https://app.example.com"
	)
	cases := []struct {
		desc       string
		req        policy.Request
		reply      []policy.Header
		remove     []string
		set        []policy.Header
		overridden bool
	}{
		{desc: "as sent", req: allowed,
			reply: h(acao, app, acac, "true", acam, "PUT", "vary", "Origin", "content-length", "0")},
		{desc: "a route's * joined into the origin, as Envoy joins inline headers", req: allowed,
			reply:  h(acao, "*,"+app, acac, "true", acam, "PUT"),
			remove: []string{acao}, set: h(acao, app), overridden: true},
		{desc: "a route's * on a line of its own", req: allowed,
			reply:  h("Access-Control-Allow-Origin", "*", acao, app, acac, "true", acam, "PUT"),
			remove: []string{"Access-Control-Allow-Origin"}, set: h(acao, app), overridden: true},
		{desc: "the decision's own header twice", req: allowed,
			reply:  h(acao, app, acac, "true", acac, "true", acam, "PUT"),
			remove: []string{acac}, set: h(acac, "true"), overridden: true},
		{desc: "a route overwrote the origin", req: allowed,
			reply:  h(acao, "*", acac, "true", acam, "PUT"),
			remove: []string{acao}, set: h(acao, app), overridden: true},
		{desc: "a header of the decision is missing", req: allowed,
			reply: h(acac, "true", acam, "PUT"),
			set:   h(acao, app)},
		{desc: "a route's headers on a denied preflight", req: denied,
			reply:  h(acao, "*", "access-control-max-age", "86400", "x-cors-debug", "origin not allowed", "vary", "Origin, X-Route"),
			remove: []string{acao, "access-control-max-age"}, overridden: true},
		{desc: "a denied preflight as sent", req: denied,
			reply: h("x-cors-debug", "origin not allowed", "content-length", "22")},
	}
	var e policy.Edits
	for _, tc := range cases {
		d := p.Decide(&tc.req)
		d.LocalReply(tc.reply, &e)
		if !slices.Equal(e.Remove, tc.remove) || !slices.Equal(e.Set, tc.set) || e.Overridden != tc.overridden {
			t.Errorf("%s: Remove %q, Set %q, Overridden %v; want %q, %q, %v", tc.desc, e.Remove, e.Set, e.Overridden, tc.remove, tc.set, tc.overridden)
		}
		// Whatever came back, the client gets the decision's CORS headers
		// and nothing else of the kind.
		var got, want []policy.Header
		for _, hd := range e.Apply(tc.reply) {
			if policy.IsUpstreamCORSHeader(hd.Name) {
				got = append(got, policy.Header{Name: strings.ToLower(hd.Name), Value: hd.Value})
			}
		}
		for _, hd := range d.Headers() {
			if policy.IsUpstreamCORSHeader(hd.Name) {
				want = append(want, hd)
			}
		}
		slices.SortFunc(got, cmpHeader)
		slices.SortFunc(want, cmpHeader)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the client gets %q; want exactly %q", tc.desc, got, want)
		}
	}
}

// TestDecision_localReplyAllocatesNothing checks that a filter reusing its
// Edits owns its replies without allocating.
func TestDecision_localReplyAllocatesNothing(t *testing.T) {
	p := parseOK(t, cfgCreds)
	r := preflight("https://app.example.com", "PUT", "x-csrf-token")
	d := p.Decide(&r)
	reply := h("access-control-allow-origin", "*,https://app.example.com", "access-control-max-age", "86400", "vary", "Origin")
	var e policy.Edits
	d.LocalReply(reply, &e)
	if n := testing.AllocsPerRun(100, func() { d.LocalReply(reply, &e) }); n != 0 {
		t.Errorf("%v allocations per reply; want 0", n)
	}
}

func cmpHeader(a, b policy.Header) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Value, b.Value))
}
