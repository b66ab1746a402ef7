package main

import (
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

func TestCulprit(t *testing.T) {
	const cfg = `{"allowed_origins": ["https://app.example.com"], "rules": [
	  {"name": "any-header", "match": {"paths": ["/any"]}, "allowed_request_headers": ["*"]},
	  {"name": "regexes", "match": {"paths": ["/re"]}, "allowed_origins": ["https://a.example", "https://b.example"],
	   "allowed_origin_regexes": ["^https://[a-z]+\\.example\\.org$"]},
	  {"name": "many", "match": {"paths": ["/many"]}, "allowed_origins": ["https://1.example", "https://2.example", "https://3.example",
	   "https://4.example", "https://5.example", "https://6.example", "https://7.example"]},
	  {"name": "anymethod", "match": {"paths": ["/anymethod"]}, "allowed_methods": ["*"]},
	  {"name": "default", "allowed_methods": ["PATCH"], "allowed_request_headers": ["X-One"]}
	]}`
	p, err := policy.Parse([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	preflight := func(path, method string, acrh ...string) *policy.Request {
		return &policy.Request{Method: "OPTIONS", Path: path, Origin: []string{"https://app.example.com"}, ACRM: []string{method}, ACRH: acrh}
	}
	tests := []struct {
		desc string
		req  *policy.Request
		want string // "" for no culprit
	}{
		{desc: "allowed: no culprit", req: preflight("/x", "PATCH", "x-one"), want: ""},
		{desc: "every denied header, in lower case, none of the allowed",
			req:  preflight("/x", "PATCH", "X-One, X-Two", "x-three"),
			want: `headers "x-two", "x-three" are not allowed: rule "default" allows x-one`},
		{desc: "* never covers authorization",
			req:  preflight("/any", "GET", "x-anything,Authorization"),
			want: `header "authorization" is not allowed: rule "any-header" allows any header but authorization, which "*" never covers: list it by name`},
		{desc: "no header list", req: preflight("/anymethod", "GET", "x-one"),
			want: `header "x-one" is not allowed: rule "anymethod" allows no request header beyond the CORS-safelisted ones (allowed_request_headers is not set)`},
		{desc: "oversized header list", req: preflight("/x", "PATCH", strings.Repeat("x-a,", 1100)),
			want: "Access-Control-Request-Headers is 4400 bytes, beyond the 4096 bytes the filter reads"},
		{desc: "malformed header list", req: preflight("/x", "PATCH", "x-one,,,,,,,,,,,,,,,,,,,,x-one"),
			want: "Access-Control-Request-Headers is malformed"},
		{desc: "a method in the wrong case", req: preflight("/x", "patch"),
			want: `method "patch" is not allowed: rule "default" allows PATCH, besides GET, HEAD and POST (methods are case-sensitive: "PATCH" is listed, "patch" is not)`},
		{desc: "a forbidden method with *", req: preflight("/anymethod", "TRACE"),
			want: `method "TRACE" is not allowed: rule "anymethod" allows any method but CONNECT, TRACE and TRACK`},
		{desc: "two request methods",
			req:  &policy.Request{Method: "OPTIONS", Path: "/x", Origin: []string{"https://app.example.com"}, ACRM: []string{"PUT", "PATCH"}},
			want: "the preflight carries 2 Access-Control-Request-Method headers"},
		{desc: "origin with regexes", req: &policy.Request{Method: "GET", Path: "/re", Origin: []string{"https://c.example"}},
			want: `origin "https://c.example" is not allowed: rule "regexes" allows https://a.example, https://b.example, and origins matching ^https://[a-z]+\.example\.org$`},
		{desc: "a long origin list is cut", req: &policy.Request{Method: "GET", Path: "/many", Origin: []string{"https://8.example"}},
			want: `rule "many" allows https://1.example, https://2.example, https://3.example, https://4.example, https://5.example and 2 more`},
		{desc: "two Origin headers", req: &policy.Request{Method: "GET", Path: "/x", Origin: []string{"https://app.example.com", "https://app.example.com"}},
			want: "the request carries 2 Origin headers; a browser sends one"},
		{desc: "private network",
			req:  &policy.Request{Method: "OPTIONS", Path: "/x", Origin: []string{"https://app.example.com"}, ACRM: []string{"GET"}, ACRPN: []string{"true"}},
			want: `the preflight asks for private network access (Access-Control-Request-Private-Network: true), and rule "default" does not set allow_private_network`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			d := p.Decide(tt.req)
			got := culprit(p, tt.req, &d)
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("culprit(%s, %s) = %q; want %q", d.Outcome, d.Rule, got, tt.want)
			}
		})
	}
}
