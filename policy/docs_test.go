package policy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// allProblems returns every Problem constant of errors.go, read from its
// source so that a new one cannot be forgotten here.
func allProblems(t *testing.T) []policy.Problem {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []policy.Problem
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Problem" {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		value, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, policy.Problem(value))
		return true
	})
	if len(out) < 20 {
		t.Fatalf("found %d Problem constants in errors.go; want them all", len(out))
	}
	return out
}

// TestDocs_listEveryProblem keeps docs/spec.md §2 and the guide's
// configuration reference true to the code: every Problem constant of
// errors.go must appear in their tables of problems.
func TestDocs_listEveryProblem(t *testing.T) {
	for _, doc := range []string{"../docs/spec.md", "../docs/guide/configuration.md"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range allProblems(t) {
			if !strings.Contains(string(text), "`"+string(p)+"`") {
				t.Errorf("%s does not list the problem %q", doc, p)
			}
		}
	}
}
