package ascii

import "testing"

func TestLower(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "abc", "X-Foo": "x-foo", "ÉX": "Éx", "A1-Z": "a1-z"} {
		if got := Lower(in); got != want {
			t.Errorf("Lower(%q) = %q; want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(10, func() { _ = Lower("already-lower") }); n != 0 {
		t.Errorf("Lower of a lower-case string allocates %v times", n)
	}
}

func TestEqualFold(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{{"Authorization", "authorization", true}, {"a", "b", false}, {"ab", "a", false}, {"É", "é", false}, {"", "", true}} {
		if got := EqualFold(tc.a, tc.b); got != tc.want {
			t.Errorf("EqualFold(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestTrimSpace(t *testing.T) {
	for in, want := range map[string]string{" \ttrue \t": "true", "": "", "a b": "a b", "\n x": "\n x"} {
		if got := TrimSpace(in); got != want {
			t.Errorf("TrimSpace(%q) = %q; want %q", in, got, want)
		}
	}
}
