package headers

import (
	"slices"
	"strconv"
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

// TestNames_fastPath checks the fast path for the form browsers send
// against the general one, which a second, empty line forces, on every
// value of up to 6 bytes over letters, separators and a non-token byte.
func TestNames_fastPath(t *testing.T) {
	var gen func(v string, n int)
	gen = func(v string, n int) {
		var fast, general []string
		okF, canonical := Names([]string{v}, func(name string, lower bool) bool {
			fast = append(fast, name+strconv.FormatBool(lower))
			return true
		})
		okG, _ := Names([]string{v, ""}, func(name string, lower bool) bool {
			general = append(general, name+strconv.FormatBool(lower))
			return true
		})
		browserForm := v != "" && !strings.HasPrefix(v, ",") && !strings.HasSuffix(v, ",") && !strings.Contains(v, ",,") &&
			strings.Trim(v, "abc-,") == ""
		if okF != okG || !slices.Equal(fast, general) || okF && canonical != browserForm {
			t.Errorf("Names(%q) = %q, %v, canonical %v; the general path says %q, %v", v, fast, okF, canonical, general, okG)
		}
		// Stopping early stops at the first name.
		var first []string
		Names([]string{v}, func(name string, _ bool) bool { first = append(first, name); return false })
		if len(first) > 1 {
			t.Errorf("Names(%q) went on after yield returned false: %q", v, first)
		}
		if n == 0 {
			return
		}
		for _, c := range []string{"a", "b", "C", "-", ",", " ", "\t", "("} {
			gen(v+c, n-1)
		}
	}
	gen("", 6)
}
