package origins

import (
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Origin
		ok   bool
	}{
		{"https://example.com", Origin{"https", "example.com", ""}, true},
		{"http://localhost:3000", Origin{"http", "localhost", "3000"}, true},
		{"http://[::1]:8080", Origin{"http", "[::1]", "8080"}, true},
		{"chrome-extension://abc", Origin{"chrome-extension", "abc", ""}, true},
		{"https://example.com/", Origin{}, false},
		{"https://example.com:", Origin{}, false},
		{"https://example.com:1234567", Origin{}, false},
		{"https://Example.com", Origin{}, false},
		{"HTTPS://example.com", Origin{}, false},
		{"https://user@example.com", Origin{}, false},
		{"https//example.com", Origin{}, false},
		{"null", Origin{}, false},
		{"", Origin{}, false},
		{"https://", Origin{}, false},
		{"https://[::1", Origin{}, false},
		{"https://a..example", Origin{}, false},
		{"https://.example", Origin{}, false},
		{"https://.", Origin{}, false},
		{"https://example.com.", Origin{"https", "example.com.", ""}, true},
		{"https://example.com..", Origin{}, false},
		{"https://" + strings.Repeat("a", MaxLength), Origin{}, false},
	}
	for _, tc := range cases {
		got, ok := Parse(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParsePattern(t *testing.T) {
	cases := []struct {
		in     string
		want   string // canonical form; "" when refused
		defect Defect
	}{
		{"https://example.com", "https://example.com", 0},
		{"https://*.example.com", "https://*.example.com", 0},
		{"https://*.example.com:*", "https://*.example.com:*", 0},
		{"http://localhost:*", "http://localhost:*", 0},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", 0},
		{"http://[2001:db8::1]", "http://[2001:db8::1]", 0},
		{"https://*.example.co.uk", "https://*.example.co.uk", 0},
		{"https://example.com:443", "", NonCanonical},
		{"https://EXAMPLE.com", "", NonCanonical},
		{"https://example.com/", "", NonCanonical},
		{"http://[2001:DB8::1]", "", NonCanonical},
		{"https://*.com", "https://*.com", 0}, // spans sites: see TestSpansSites
		{"https://*", "", MisplacedWildcard},
		{"https://**.example.com", "", MisplacedWildcard},
		{"https://*.*.example.com", "", MisplacedWildcard},
		{"https://exa*mple.com", "", MisplacedWildcard},
		{"file://", "", OpaqueScheme},
		{"https://-bad.example.com", "", Malformed},
		{"https://a_b.example.com", "https://a_b.example.com", 0},
	}
	for _, tc := range cases {
		p, err := ParsePattern(tc.in)
		switch {
		case tc.want == "" && (err == nil || err.Defect != tc.defect):
			t.Errorf("ParsePattern(%q) = %v, %v; want defect %d", tc.in, p, err, tc.defect)
		case tc.want != "" && (err != nil || p.String() != tc.want):
			t.Errorf("ParsePattern(%q) = %v, %v; want %q", tc.in, p, err, tc.want)
		}
	}
}

func TestSpansSites(t *testing.T) {
	cases := []struct {
		pattern, suffix string
		spans           bool
	}{
		{"https://*.example.com", "", false},
		{"https://*.example.co.uk", "", false},
		{"http://*.localhost:*", "", false},
		{"https://app.example.com", "", false},
		{"https://*.com", "com", true},
		{"https://*.co.uk", "co.uk", true},
		{"https://*.vercel.app", "vercel.app", true},
		{"https://*.blob.core.windows.net", "blob.core.windows.net", true},
		{"https://*.tokyo.jp", "tokyo.jp", true},
		{"https://*.ca.us", "ca.us", true},
		{"https://*.internal", "internal", true}, // an unlisted TLD: the list's default rule
	}
	for _, tc := range cases {
		p, err := ParsePattern(tc.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tc.pattern, err)
		}
		if suffix, spans := p.SpansSites(); spans != tc.spans || suffix != tc.suffix {
			t.Errorf("%s: SpansSites() = %q, %v; want %q, %v", tc.pattern, suffix, spans, tc.suffix, tc.spans)
		}
	}
	// A domain with public suffixes below it spans sites too.
	if suffix, spans := SpansSites("amazonaws.com"); !spans || !strings.HasSuffix(suffix, ".amazonaws.com") {
		t.Errorf("SpansSites(amazonaws.com) = %q, %v; want a suffix below it", suffix, spans)
	}
}

func TestSite(t *testing.T) {
	cases := []struct {
		host, site string
		exact      bool
	}{
		{"app.example.com", "example.com", false},
		{"example.com", "example.com", false},
		{"a.b.example.co.uk", "example.co.uk", false},
		{"x.github.io", "x.github.io", false},
		{"github.io", "github.io", true},
		{"localhost", "localhost", false},
		{"app.localhost", "localhost", false},
		{"127.0.0.1", "127.0.0.1", true},
		{"[::1]", "[::1]", true},
		{"com", "com", true},
	}
	for _, tc := range cases {
		if site, exact := Site(tc.host); site != tc.site || exact != tc.exact {
			t.Errorf("Site(%q) = %q, %v; want %q, %v", tc.host, site, exact, tc.site, tc.exact)
		}
	}
}

// TestSet checks a small set, searched by comparing strings, and the same
// set padded with patterns of every kind and other schemes, searched by
// hashing.
func TestSet(t *testing.T) {
	patterns := []string{"https://app.example.com", "https://*.example.org", "https://*.example.net:8443", "https://*.example.io:*", "http://localhost:*"}
	var padding []string
	for i := range 2 * fewMax {
		padding = append(padding, fmt.Sprintf("https://pad%d.example.com", i), fmt.Sprintf("https://*.pad%d.example.dev", i),
			fmt.Sprintf("https://*.pad%d.example.net:8443", i), fmt.Sprintf("https://*.pad%d.example.io:*", i),
			fmt.Sprintf("http://pad%d:*", i), fmt.Sprintf("s%d://pad.example.com:*", i))
	}
	for _, list := range [][]string{patterns, append(padding, patterns...)} {
		s := NewSet()
		for _, p := range list {
			pat, err := ParsePattern(p)
			if err != nil {
				t.Fatal(err)
			}
			s.Add(pat)
		}
		testSet(t, s, len(list))
	}
}

func testSet(t *testing.T, s *Set, n int) {
	cases := map[string]bool{
		"https://app.example.com":      true,
		"https://app.example.com:443":  false,
		"https://x.app.example.com":    false,
		"https://a.example.org":        true,
		"https://a.b.example.org":      true,
		"https://example.org":          false,
		"https://aexample.org":         false,
		"https://a.example.org:8443":   false,
		"http://a.example.org":         false,
		"https://a.example.net:8443":   true,
		"https://a.example.net":        false,
		"https://a.example.io:1":       true,
		"https://a.example.io":         true,
		"http://localhost":             true,
		"http://localhost:5173":        true,
		"https://localhost:5173":       false,
		"http://localhost.evil:5173":   false,
		"https://a..example.org":       false,
		"https://.example.org":         false,
		"https://a.example.org.evil.x": false,
		"null":                         false,
		"https://app.example.con":      false,
		"https://pad1.example.com":     n > 5,
		"https://a.pad1.example.dev":   n > 5,
		"https://pad1.example.dev":     false,
		"http://pad1:5173":             n > 5,
		"http://pad1.x:5173":           false,
		"s3://pad.example.com:1":       n > 5,
	}
	for origin, want := range cases {
		if got := s.Contains(origin); got != want {
			t.Errorf("%d entries: Contains(%q) = %v; want %v", n, origin, got, want)
		}
	}
	s.AddNull()
	if !s.Contains("null") {
		t.Error("Contains(\"null\") = false after AddNull")
	}
}

func TestSameOrigin(t *testing.T) {
	cases := []struct {
		origin, scheme, authority string
		want                      bool
	}{
		{"https://api.example.com", "https", "api.example.com", true},
		{"https://api.example.com", "https", "API.example.com:443", true},
		{"http://api.example.com", "https", "api.example.com", false},
		{"https://api.example.com:8443", "https", "api.example.com", false},
		{"https://api.example.com:8443", "https", "api.example.com:8443", true},
		{"http://[::1]:8080", "http", "[::1]:8080", true},
		{"https://api.example.com", "", "api.example.com", false},
	}
	for _, tc := range cases {
		o, ok := Parse(tc.origin)
		if !ok {
			t.Fatalf("Parse(%q) failed", tc.origin)
		}
		if got := SameOrigin(o, tc.scheme, tc.authority); got != tc.want {
			t.Errorf("SameOrigin(%q, %q, %q) = %v; want %v", tc.origin, tc.scheme, tc.authority, got, tc.want)
		}
	}
}

func TestIPv6(t *testing.T) {
	for in, want := range map[string]string{
		"::1":                   "::1",
		"::":                    "::",
		"2001:db8::1":           "2001:db8::1",
		"2001:DB8:0:0:0:0:0:1":  "2001:db8::1",
		"0:0:0:0:0:0:0:1":       "::1",
		"1:0:0:2:0:0:0:3":       "1:0:0:2::3",
		"1:0:0:2:0:0:3:4":       "1::2:0:0:3:4",
		"1:2:3:4:5:6:7:0":       "1:2:3:4:5:6:7:0",
		"::ffff:127.0.0.1":      "::ffff:7f00:1",
		"fe80::1:2":             "fe80::1:2",
		"1:2:3:4:5:6:7:8":       "1:2:3:4:5:6:7:8",
		"0001:0002::":           "1:2::",
		"1::2::3":               "",
		":1::2":                 "",
		"1:2:3:4:5:6:7:8:9":     "",
		"1:2:3:4:5:6:7":         "",
		"12345::":               "",
		"::1.2.3":               "",
		"1:2:3:4:5:6:7:1.2.3.4": "",
		"g::1":                  "",
		"1:":                    "",
	} {
		p, ok := parseIPv6(in)
		got := ""
		if ok {
			got = serializeIPv6(p)
		}
		if got != want {
			t.Errorf("serializeIPv6(parseIPv6(%q)) = %q; want %q", in, got, want)
		}
	}
}

// TestPrechecks checks the shortcuts that spare a parse against the parse:
// MatchPatternRaw against Parse and MatchesPattern, on a small set it
// answers for and a large one it may decline, and MaybeSameOrigin, which
// must never refuse an origin that SameOrigin accepts.
func TestPrechecks(t *testing.T) {
	var origins []string
	for _, scheme := range []string{"https", "http", "s1", "HTTPS", "", "h"} {
		for _, host := range []string{"a.example.org", "example.org", "x.pad1.example.dev", "localhost", "app.example.com",
			"a.example.io", "Example.org", "A.example.org", "a..b", "[::1]", "[::1", "x[::1]", "127.0.0.1", "a.example.org.x",
			"pad1", "a.example.org.", "", ".example.org", "a..example.org", "a_b-c.d.example.net", "a/b.example.org",
			"a.example.io.", "xexample.org", "localhost.", "a.example.net", "a..b.example.org", "xlocalhost", "b.a.example.net"} {
			for _, port := range []string{"", ":8443", ":1", ":", ":x", ":123456", ":65535", ":0", "::1"} {
				for _, tail := range []string{"", "/", "."} {
					origins = append(origins, scheme+"://"+host+port+tail, scheme+":/"+host+port+tail)
				}
			}
		}
	}
	origins = append(origins, "https://"+strings.Repeat("a.", MaxLength/2)+"example.org")
	patterns := []string{"https://app.example.com", "https://*.example.org", "https://*.example.net:8443", "https://*.example.io:*",
		"http://localhost:*", "http://[::1]:*", "https://*.a.example.net:*"}
	var padding []string
	for i := range 2 * fewMax {
		padding = append(padding, fmt.Sprintf("https://*.pad%d.example.dev", i), fmt.Sprintf("http://pad%d:*", i))
	}
	for _, list := range [][]string{patterns, append(padding, patterns...)} {
		s := NewSet()
		for _, p := range list {
			pat, err := ParsePattern(p)
			if err != nil {
				t.Fatal(err)
			}
			s.Add(pat)
		}
		matches := 0
		for _, origin := range origins {
			o, ok := Parse(origin)
			want := ok && s.MatchesPattern(origin, o)
			got, known := s.MatchPatternRaw(origin)
			switch {
			case !known && len(list) == len(patterns):
				t.Errorf("%d patterns: MatchPatternRaw(%q) declines", len(list), origin)
			case known && got != want:
				t.Errorf("%d patterns: MatchPatternRaw(%q) = %v; Parse and MatchesPattern say %v", len(list), origin, got, want)
			}
			if want {
				matches++
			}
			if c := s.Contains(origin); c != (want || s.ContainsLiteral(origin)) {
				t.Errorf("%d patterns: Contains(%q) = %v", len(list), origin, c)
			}
		}
		if matches < 10 {
			t.Errorf("%d patterns: only %d origins match", len(list), matches)
		}
	}
	for _, origin := range origins {
		o, ok := Parse(origin)
		for _, authority := range []string{"example.org", "a.example.org", "A.EXAMPLE.ORG.", "localhost:5173", "[::1]:8080", "127.0.0.1", "example.org.:443", ""} {
			for _, scheme := range []string{"https", "http", "s1", o.Scheme} {
				if ok && SameOrigin(o, scheme, authority) && !MaybeSameOrigin(origin, authority) {
					t.Errorf("MaybeSameOrigin(%q, %q) = false; SameOrigin under %q is true", origin, authority, scheme)
				}
			}
		}
	}
}

// FuzzMatchPatternRaw checks MatchPatternRaw against Parse and
// MatchesPattern, and MaybeSameOrigin against SameOrigin, on any origin.
func FuzzMatchPatternRaw(f *testing.F) {
	s := NewSet()
	for _, p := range []string{"https://*.example.org", "https://*.example.net:8443", "https://*.example.io:*", "http://localhost:*", "http://[::1]:*"} {
		pat, err := ParsePattern(p)
		if err != nil {
			f.Fatal(err)
		}
		s.Add(pat)
	}
	for _, seed := range []string{"https://a.example.org", "https://a.example.net:8443", "https://a.example.io:1", "http://localhost", "http://[::1]:80", "https://a..example.org"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		o, ok := Parse(origin)
		want := ok && s.MatchesPattern(origin, o)
		if got, known := s.MatchPatternRaw(origin); !known || got != want {
			t.Errorf("MatchPatternRaw(%q) = %v, %v; Parse and MatchesPattern say %v", origin, got, known, want)
		}
		if ok && SameOrigin(o, o.Scheme, "a.example.org:8443") && !MaybeSameOrigin(origin, "a.example.org:8443") {
			t.Errorf("MaybeSameOrigin(%q) = false; SameOrigin is true", origin)
		}
	})
}
