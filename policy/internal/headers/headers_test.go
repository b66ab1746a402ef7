package headers

import (
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	cases := []struct {
		desc      string
		values    []string
		want      []string
		ok        bool
		canonical bool
	}{
		{"browser form", []string{"content-type,x-csrf-token"}, []string{"content-type", "x-csrf-token"}, true, true},
		{"spaces", []string{"Content-Type, X-Foo"}, []string{"Content-Type", "X-Foo"}, true, false},
		{"tabs and empty elements", []string{"\tx-a ,,", ", x-b"}, []string{"x-a", "x-b"}, true, false},
		{"upper case", []string{"X-A"}, []string{"X-A"}, true, false},
		{"invalid token", []string{"x-a,x b"}, nil, false, false},
		{"too much whitespace", []string{"x-a,    x-b"}, nil, false, false},
		{"too many empty elements", []string{strings.Repeat(",", MaxEmpty+1)}, nil, false, false},
		{"too many names", []string{strings.Repeat("x,", MaxElements) + "y"}, nil, false, false},
		{"too long", []string{strings.Repeat("x", MaxACRHLength+1)}, nil, false, false},
		{"long name", []string{strings.Repeat("x", MaxNameLength+1)}, nil, false, false},
	}
	for _, tc := range cases {
		var got []string
		ok, canonical := Names(tc.values, func(n string, _ bool) bool { got = append(got, n); return true })
		if ok != tc.ok || (ok && (!slices.Equal(got, tc.want) || canonical != tc.canonical)) {
			t.Errorf("%s: Names(%q) = %q, %v, %v; want %q, %v, %v", tc.desc, tc.values, got, ok, canonical, tc.want, tc.ok, tc.canonical)
		}
	}
}

func TestIsToken(t *testing.T) {
	for s, want := range map[string]bool{"X-Foo": true, "a!#$%&'*+-.^_`|~z": true, "": false, "a b": false, "a,b": false, "é": false, "a:b": false} {
		if got := IsToken(s); got != want {
			t.Errorf("IsToken(%q) = %v; want %v", s, got, want)
		}
	}
}
