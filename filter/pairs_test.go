package main

import (
	"slices"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// TestPairs_roundTrip serializes header lists with appendPairs, after
// bytes already in the buffer, and decodes them back.
func TestPairs_roundTrip(t *testing.T) {
	for _, hs := range [][]policy.Header{
		nil,
		{{Name: "", Value: ""}},
		{{Name: ":status", Value: "204"}, {Name: "access-control-allow-origin", Value: app}, {Name: "vary", Value: "origin"}},
	} {
		prefix := []byte("kept")
		b := appendPairs(prefix, hs)
		if string(b[:len(prefix)]) != "kept" {
			t.Fatalf("appendPairs overwrote its dst: %q", b)
		}
		got, ok := decodePairs(b[len(prefix):], nil)
		if !ok || !slices.Equal(got, hs) {
			t.Fatalf("decodePairs(appendPairs(%v)) = %v, %v", hs, got, ok)
		}
	}
}

// TestDecodePairs_malformed decodes every truncation of a valid map: each
// is refused (or, under 4 bytes, read as empty) without a panic, which in
// the plugin would cost a fault on the stream.
func TestDecodePairs_malformed(t *testing.T) {
	b := appendPairs(nil, []policy.Header{{Name: ":status", Value: "204"}, {Name: "vary", Value: "origin"}})
	for n := range len(b) {
		got, ok := decodePairs(b[:n], nil)
		if ok && n >= 4 {
			t.Fatalf("decodePairs(%d of %d bytes) = %v, ok", n, len(b), got)
		}
		if cameBackAsSent(b, b[:n]) {
			t.Fatalf("cameBackAsSent(%d of %d bytes) = true", n, len(b))
		}
	}
	huge := []byte{0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0}
	if _, ok := decodePairs(huge, nil); ok {
		t.Fatal("decodePairs accepted a count larger than its buffer")
	}
}

// TestCameBackAsSent compares a local reply's headers with what the
// response path may hand back, as Envoy builds a local reply (the status,
// a route's response_headers_to_add, the filter's headers, content-length
// and content-type) or as another filter may edit it. Whenever the fast
// check says the reply came back as sent, the policy's own comparison
// (Decision.LocalReply) must find no edit to make; the cases where it says
// otherwise must reach that comparison.
func TestCameBackAsSent(t *testing.T) {
	p, err := policy.Parse([]byte(`{"allowed_origins":["https://app.example.com"],"allowed_methods":["PUT"],
		"allow_credentials":true,"max_age_seconds":600}`))
	if err != nil {
		t.Fatal(err)
	}
	var r policy.Request
	for _, h := range [][2]string{{":method", "OPTIONS"}, {":scheme", "https"}, {":authority", "api.example.com"},
		{":path", "/"}, {"origin", app}, {"access-control-request-method", "PUT"}} {
		r.AddHeader(h[0], h[1])
	}
	d := p.Decide(&r)
	own := d.Reply(nil)
	if len(own) < 3 {
		t.Fatalf("want an allowed preflight's headers, got %v", own)
	}
	status := policy.Header{Name: ":status", Value: "204"}
	length := policy.Header{Name: "content-length", Value: "0"}
	acao := func(v string) policy.Header { return policy.Header{Name: "access-control-allow-origin", Value: v} }
	changed := slices.Clone(own)
	changed[0].Value = "*," + changed[0].Value
	cases := []struct {
		name  string
		reply []policy.Header
		want  bool
	}{
		{"as sent", slices.Concat([]policy.Header{status}, own), true},
		{"with content-length after", slices.Concat([]policy.Header{status}, own, []policy.Header{length}), true},
		{"without status", own, false},
		{"a route header first", slices.Concat([]policy.Header{status, {Name: "x-route", Value: "1"}}, own), false},
		{"a route CORS header first", slices.Concat([]policy.Header{status, acao("*")}, own), false},
		{"a CORS header after", slices.Concat([]policy.Header{status}, own, []policy.Header{acao("*")}), false},
		{"a CORS header after, upper case", slices.Concat([]policy.Header{status}, own,
			[]policy.Header{{Name: "Access-Control-Expose-Headers", Value: "x"}}), false},
		{"a value joined", slices.Concat([]policy.Header{status}, changed), false},
		{"a header missing", slices.Concat([]policy.Header{status}, own[1:]), false},
	}
	sent := appendPairs(nil, own)
	for _, c := range cases {
		buf := appendPairs(nil, c.reply)
		if got := cameBackAsSent(sent, buf); got != c.want {
			t.Errorf("%s: cameBackAsSent = %v; want %v", c.name, got, c.want)
		}
		var e policy.Edits
		d.LocalReply(c.reply, &e)
		if c.want && (len(e.Remove) > 0 || len(e.Set) > 0 || e.Overridden) {
			t.Errorf("%s: came back as sent, but LocalReply edits: %+v", c.name, e)
		}
	}
	// A reply with no header of its own, back with its status only.
	if !cameBackAsSent(appendPairs(nil, nil), appendPairs(nil, []policy.Header{status})) {
		t.Error("an empty reply did not come back as sent")
	}
}
