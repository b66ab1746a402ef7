package regex

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// genExpr writes a random expression built from the supported syntax, biased
// towards the corners where engines differ: empty-width assertions, empty
// loops, flags and their scope, folding, classes and counted repetitions.
func genExpr(r *rand.Rand, b *strings.Builder, depth int) {
	n := 1 + r.IntN(4)
	for i := range n {
		if i > 0 && r.IntN(6) == 0 {
			b.WriteByte('|')
		}
		genPiece(r, b, depth)
	}
}

var (
	genLiterals  = []string{"a", "b", "k", "s", "A", "K", "S", "_", "-", "/", ":", ".", " ", "é", "\u212a", "\u017f", `\.`, `\-`, `\n`, `\x41`, `\x{e9}`, `\t`, `\ `, `\_`, "1", "{", "}", "]"}
	genAtoms     = []string{".", `\d`, `\D`, `\w`, `\W`, `\s`, `\S`, "^", "$", `\A`, `\z`, `\b`, `\B`, `\Qa.\E`, `\Q\E`, "(?i)", "(?s)", "(?-i)", "(?i-s)", "()", "(?:)"}
	genClassBits = []string{"a", "b", "k", "s", "A-Z", "a-z", "0-9", "-", "]", "^", `\]`, `\-`, `\d`, `\W`, `\s`, "[:alpha:]", "[:^upper:]", "[:punct:]", "[:word:]", "é", "à-ÿ", `\x{100}-\x{10FFFF}`, "\n", "_", "[", ":", "K-S"}
	genRepeats   = []string{"*", "+", "?", "*?", "+?", "??", "{2}", "{0}", "{1,2}", "{0,1}", "{2,}", "{0,}", "{1}", "{3,4}?", "{,2}", "{x}"}
)

func genPiece(r *rand.Rand, b *strings.Builder, depth int) {
	switch k := r.IntN(10); {
	case k < 4:
		b.WriteString(genLiterals[r.IntN(len(genLiterals))])
	case k < 6:
		b.WriteString(genAtoms[r.IntN(len(genAtoms))])
	case k < 8:
		b.WriteByte('[')
		if r.IntN(3) == 0 {
			b.WriteByte('^')
		}
		for range 1 + r.IntN(3) {
			b.WriteString(genClassBits[r.IntN(len(genClassBits))])
		}
		b.WriteByte(']')
	default:
		if depth > 3 {
			b.WriteString("a")
			break
		}
		b.WriteString([]string{"(", "(?:", "(?i:", "(?s:", "(?P<n>", "(?-i:"}[r.IntN(6)])
		genExpr(r, b, depth+1)
		b.WriteByte(')')
	}
	if r.IntN(3) == 0 {
		b.WriteString(genRepeats[r.IntN(len(genRepeats))])
	}
}

var genInputRunes = []string{"a", "b", "A", "B", "k", "K", "\u212a", "s", "S", "\u017f", "\n", " ", "_", "-", "/", ":", ".", "é", "\xff", "1", "{", "]"}

// TestRandomAgainstStdlib runs many generated expressions on generated inputs
// against package regexp; it complements FuzzMatch, whose byte mutations
// rarely produce well-formed expressions.
func TestRandomAgainstStdlib(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 1000
	}
	r := rand.New(rand.NewPCG(1, 2))
	compiled := 0
	for i := range n {
		var b strings.Builder
		genExpr(r, &b, 0)
		expr := b.String()
		inputs := make([]string, 12)
		for j := range inputs {
			var in strings.Builder
			for range r.IntN(8) {
				in.WriteString(genInputRunes[r.IntN(len(genInputRunes))])
			}
			inputs[j] = in.String()
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) { checkAgainstStd(t, expr, inputs...) })
		if _, err := Compile(expr); err == nil {
			compiled++
		}
	}
	// The generator must mostly produce expressions in the subset, or the
	// test checks little.
	t.Logf("%d of %d compiled", compiled, n)
	if compiled < n/2 {
		t.Fatalf("only %d of %d generated expressions compiled", compiled, n)
	}
}
