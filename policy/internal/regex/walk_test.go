package regex

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// walker is what walkMatch needs: Regexp and DFA are both.
type walker interface {
	StateLen() int
	Start(s []uint64)
	Step(dst, src []uint64, r rune) bool
	Accepts(s []uint64) bool
}

// walkMatch reads s one rune at a time with Start, Step and Accepts.
func walkMatch(re walker, s string) bool {
	cur, next := make([]uint64, re.StateLen()), make([]uint64, re.StateLen())
	re.Start(cur)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		live := re.Step(next, cur, r)
		cur, next = next, cur
		i += n
		if !live {
			return false
		}
	}
	return re.Accepts(cur)
}

// TestWalkAgreesWithMatch checks that walking the automaton gives
// MatchString's answer on generated expressions and inputs, so that an
// analysis built on the walk reasons about exactly what the plugin matches.
func TestWalkAgreesWithMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	checked := 0
	for range 4000 {
		var b strings.Builder
		genExpr(r, &b, 0)
		re, err := Compile(b.String())
		if err != nil {
			continue
		}
		for range 16 {
			var in strings.Builder
			for range r.IntN(10) {
				in.WriteString(genInputRunes[r.IntN(len(genInputRunes))])
			}
			s := in.String()
			if got, want := walkMatch(re, s), re.MatchString(s); got != want {
				t.Fatalf("%q on %q: walk %v, MatchString %v", re, s, got, want)
			}
			checked++
		}
	}
	if checked < 20000 {
		t.Fatalf("only %d cases checked", checked)
	}
}

// TestWalkDeadStates checks that Step reports a dead state only when no
// continuation can match.
func TestWalkDeadStates(t *testing.T) {
	re, err := Compile(`^https://a\.example$`)
	if err != nil {
		t.Fatal(err)
	}
	cur, next := make([]uint64, re.StateLen()), make([]uint64, re.StateLen())
	re.Start(cur)
	if !re.Step(next, cur, 'h') {
		t.Fatal(`"h" is a live prefix`)
	}
	if re.Step(cur, next, 'x') {
		t.Fatal(`"hx" is a dead prefix`)
	}
}

func TestSameASCII(t *testing.T) {
	re, err := Compile(`^[a-y]+\bz$`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		a, b byte
		want bool
	}{{'a', 'b', true}, {'a', 'z', false}, {'a', '-', false}, {'-', '/', true}, {'0', '-', false}} {
		if got := re.SameASCII(c.a, c.b); got != c.want {
			t.Errorf("SameASCII(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestDFAAgreesWithMatch checks that a DFA built over an alphabet matches
// as MatchString does on texts of that alphabet, and matches nothing else.
func TestDFAAgreesWithMatch(t *testing.T) {
	const alphabet = "abks_-/:.1{]AKS "
	r := rand.New(rand.NewPCG(5, 6))
	built := 0
	for range 3000 {
		var b strings.Builder
		genExpr(r, &b, 0)
		re, err := Compile(b.String())
		if err != nil {
			continue
		}
		work := 1 << 30
		d, err := re.DFA(alphabet, 4096, &work)
		if err != nil {
			continue
		}
		built++
		for range 16 {
			var in strings.Builder
			for range r.IntN(10) {
				in.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
			s := in.String()
			if got, want := d.MatchString(s), re.MatchString(s); got != want {
				t.Fatalf("%q on %q: DFA %v, MatchString %v", re, s, got, want)
			}
			if walkMatch(d, s) != d.MatchString(s) {
				t.Fatalf("%q on %q: walking the DFA disagrees with its MatchString", re, s)
			}
		}
		if d.MatchString("é") || re.MatchString("x") && d.MatchString("x") {
			t.Fatalf("%q: the DFA matches outside its alphabet", re)
		}
	}
	if built < 1000 {
		t.Fatalf("only %d DFAs built", built)
	}
}

func TestDFABounds(t *testing.T) {
	re, err := Compile(`^(?:[a-z]?){300}$`)
	if err != nil {
		t.Fatal(err)
	}
	work := 1 << 30
	if _, err := re.DFA("abc", 100, &work); err != ErrTooManyStates {
		t.Errorf("got %v; want ErrTooManyStates for 100 states", err)
	}
	work = 1000
	if _, err := re.DFA("abc", 1<<20, &work); err != ErrTooManyStates || work >= 0 {
		t.Errorf("got %v, work %d; want ErrTooManyStates with the budget spent", err, work)
	}
}
