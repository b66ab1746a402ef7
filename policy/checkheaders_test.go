package policy

import (
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy/internal/headers"
)

// checkHeadersByNames is checkHeaders as it was, every form through
// headers.Names: the reference for its one-pass check of the form browsers
// send.
func checkHeadersByNames(ru *rule, acrh []string) (reason string, canonical bool) {
	if len(acrh) == 0 {
		return "", false
	}
	allowed := true
	ok, canonical := headers.Names(acrh, func(name string, lower bool) bool {
		allowed = ru.allowsHeader(name, lower)
		return allowed
	})
	switch {
	case !ok:
		return reasonBadHeaders, false
	case !allowed:
		return reasonHeaders, false
	}
	return "", canonical
}

// TestCheckHeaders_reference compares checkHeaders with the reference on
// lists of up to three elements, allowed, denied, upper-case, empty or
// padded, on one line or two, and on lists at the package's limits.
func TestCheckHeaders_reference(t *testing.T) {
	p, err := Parse([]byte(`{"allowed_origins":["https://app.example.com"],"allowed_request_headers":["x-a","x-b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	ru := &p.rules[0]
	elements := []string{"x-a", "x-b", "x-z", "X-A", "", " x-a", "x-b ", "x(a"}
	var lists [][]string
	var gen func(list string, n int)
	gen = func(list string, n int) {
		lists = append(lists, []string{list})
		if i := strings.IndexByte(list, ','); i >= 0 {
			lists = append(lists, []string{list[:i], list[i+1:]})
		}
		if n == 0 {
			return
		}
		for _, e := range elements {
			for _, sep := range []string{",", ", "} {
				if list == "" {
					gen(e, n-1)
					break
				}
				gen(list+sep+e, n-1)
			}
		}
	}
	gen("", 3)
	many := strings.Repeat("x-a,", headers.MaxElements)
	long := strings.Repeat("a", headers.MaxNameLength+1)
	lists = append(lists, nil, []string{many + "x-a"}, []string{many[:len(many)-1]}, []string{many + "x-z"},
		[]string{"x-a," + long}, []string{"x-z," + long}, []string{long + ",x-z"}, []string{strings.Repeat("x", headers.MaxACRHLength+1)})
	for _, acrh := range lists {
		gotReason, gotCanonical := ru.checkHeaders(acrh)
		wantReason, wantCanonical := checkHeadersByNames(ru, acrh)
		if gotReason != wantReason || gotCanonical != wantCanonical {
			t.Errorf("checkHeaders(%q) = %q, %v; the reference says %q, %v", acrh, gotReason, gotCanonical, wantReason, wantCanonical)
		}
	}
}
