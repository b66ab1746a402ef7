package policy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDocs_listEveryProblem keeps docs/spec.md §2 true to the code: every
// Problem constant of errors.go must appear in its table of problems.
func TestDocs_listEveryProblem(t *testing.T) {
	spec, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
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
		n++
		if !strings.Contains(string(spec), "`"+value+"`") {
			t.Errorf("docs/spec.md does not list the problem %q (%s)", value, vs.Names[0].Name)
		}
		return true
	})
	if n < 20 {
		t.Errorf("found %d Problem constants in errors.go; want them all", n)
	}
}
