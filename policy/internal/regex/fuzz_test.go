package regex

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
)

// stdAnchored is the anchoring rule the policy applied with regexp/syntax
// before this package existed.
func stdAnchored(expr string) bool {
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return false
	}
	for tree.Op == syntax.OpCapture && len(tree.Sub) == 1 {
		tree = tree.Sub[0]
	}
	return tree.Op == syntax.OpConcat && len(tree.Sub) >= 2 &&
		tree.Sub[0].Op == syntax.OpBeginText && tree.Sub[len(tree.Sub)-1].Op == syntax.OpEndText
}

// checkAgainstStd fails t when Compile and regexp.Compile disagree on expr,
// or their matches disagree on one of inputs.
func checkAgainstStd(t *testing.T, expr string, inputs ...string) {
	t.Helper()
	re, err := Compile(expr)
	std, stdErr := regexp.Compile(expr)
	if stdErr != nil {
		if err == nil {
			t.Fatalf("Compile(%q) succeeded, regexp refuses it: %v", expr, stdErr)
		}
		return
	}
	if err != nil {
		return // a subset: refusing more than regexp is allowed
	}
	if got, want := re.Anchored(), stdAnchored(expr); got != want {
		t.Fatalf("Compile(%q).Anchored() = %v, regexp/syntax tree says %v", expr, got, want)
	}
	if re.String() != expr {
		t.Fatalf("Compile(%q).String() = %q", expr, re.String())
	}
	for _, in := range inputs {
		if got, want := re.MatchString(in), std.MatchString(in); got != want {
			t.Fatalf("Compile(%q).MatchString(%q) = %v, regexp says %v", expr, in, got, want)
		}
	}
}

// FuzzMatch checks Compile and MatchString against package regexp: whatever
// regexp refuses is refused, and whatever is accepted matches the same.
func FuzzMatch(f *testing.F) {
	for _, tc := range matchTests {
		for _, in := range tc.inputs {
			f.Add(tc.expr, in)
		}
	}
	for _, tc := range errorTests {
		f.Add(tc.expr, "")
	}
	f.Fuzz(func(t *testing.T, expr, input string) {
		var variants []string
		variants = append(variants, input, "", input+"\n", "\n"+input, strings.ToUpper(input), expr)
		if i := len(input) / 2; i > 0 {
			variants = append(variants, input[:i], input[i:])
		}
		checkAgainstStd(t, expr, variants...)
	})
}
