package policy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// The documentation's configuration examples are tested, so that the guide
// cannot drift from the code. Two forms carry a verdict:
//
//   - a fenced block with the info string json, preceded (on the nearest
//     non-blank line) by an HTML comment: <!-- permitted -->,
//     <!-- permitted with a warning -->, <!-- prohibited: problem, ... -->,
//     <!-- origin set --> (a registry's answer, read with
//     policy.ParseOriginSet) or <!-- output --> (any other JSON, which
//     must only be valid);
//   - a table row whose first cell is one code span holding a JSON object
//     and whose second cell starts with one of those verdicts:
//     | `{"allowed_origins": ["*"]}` | permitted | ... |
//
// "permitted" means Parse accepts the configuration without a warning;
// "permitted with a warning", with at least one; "prohibited: a, b" that
// Parse refuses it with exactly the problems a and b (each at least once,
// no other).

// docExample is one configuration example found in a document.
type docExample struct {
	where   string // file:line
	config  string
	verdict string // permitted, permitted with a warning, prohibited, origin set, output
	want    []policy.Problem
}

var (
	markerRE  = regexp.MustCompile(`^<!--\s*(.*?)\s*-->$`)
	verdictRE = regexp.MustCompile(`^(permitted with a warning|permitted|prohibited|origin set|output)\b:?\s*(.*)$`)
	problemRE = regexp.MustCompile("`?([a-z_]+)`?")
)

// parseVerdict reads "prohibited: `a`, `b`" and the like.
func parseVerdict(s string) (verdict string, want []policy.Problem, ok bool) {
	m := verdictRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", nil, false
	}
	verdict = m[1]
	if verdict == "prohibited" {
		// The problems are the code spans (or bare words) before any
		// explanation after a colon or a dash.
		list := m[2]
		if i := strings.IndexAny(list, ":—("); i >= 0 {
			list = list[:i]
		}
		for _, p := range strings.Split(list, ",") {
			if pm := problemRE.FindStringSubmatch(strings.TrimSpace(p)); pm != nil {
				want = append(want, policy.Problem(pm[1]))
			}
		}
	}
	return verdict, want, true
}

// tableCells splits a Markdown table row into its cells, keeping "\|"
// (an escaped pipe) inside a cell as "|".
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	var cells []string
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			b.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(b.String()))
}

// docExamples returns the examples of one Markdown document, and a
// complaint for each json block without a verdict.
func docExamples(path string, data []byte) (out []docExample, complaints []string) {
	lines := strings.Split(string(data), "\n")
	lastNonBlank := ""
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		where := fmt.Sprintf("%s:%d", path, i+1)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			info := strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))
			start := i
			var body []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				body = append(body, lines[i])
			}
			if info != "json" {
				break
			}
			m := markerRE.FindStringSubmatch(lastNonBlank)
			var verdict string
			var want []policy.Problem
			ok := false
			if m != nil {
				verdict, want, ok = parseVerdict(m[1])
			}
			if !ok {
				complaints = append(complaints, fmt.Sprintf("%s:%d: a json block needs a verdict on the line before it (<!-- permitted -->, <!-- prohibited: problem -->, <!-- origin set --> or <!-- output -->), not %q", path, start+1, lastNonBlank))
				break
			}
			out = append(out, docExample{where: where, config: strings.Join(body, "\n"), verdict: verdict, want: want})
		case strings.HasPrefix(trimmed, "|"):
			cells := tableCells(trimmed)
			if len(cells) < 2 {
				break
			}
			c := cells[0]
			if !strings.HasPrefix(c, "`{") || !strings.HasSuffix(c, "}`") || strings.Count(c, "`") != 2 {
				break
			}
			verdict, want, ok := parseVerdict(cells[1])
			if !ok {
				break
			}
			out = append(out, docExample{where: where, config: c[1 : len(c)-1], verdict: verdict, want: want})
		}
		if trimmed != "" {
			lastNonBlank = trimmed
		}
	}
	return out, complaints
}

// checkExample runs one example through the parser. It returns the
// problems the parser found, and a message when the verdict does not hold.
func checkExample(ex docExample) (got []policy.Problem, failure string) {
	switch ex.verdict {
	case "output":
		if !json.Valid([]byte(ex.config)) {
			return nil, fmt.Sprintf("%s: not valid JSON:\n%s", ex.where, ex.config)
		}
		return nil, ""
	case "origin set":
		if _, _, _, err := policy.ParseOriginSet([]byte(ex.config), 1000); err != nil {
			return nil, fmt.Sprintf("%s: a registry's answer the plugin refuses: %v\n%s", ex.where, err, ex.config)
		}
		return nil, ""
	}
	p, err := policy.Parse([]byte(ex.config))
	if ex.verdict != "prohibited" {
		switch w := p.Warnings(); {
		case err != nil:
			return nil, fmt.Sprintf("%s: marked %s, but refused:\n%v\nconfig: %s", ex.where, ex.verdict, err, ex.config)
		case ex.verdict == "permitted" && len(w) > 0:
			return nil, fmt.Sprintf("%s: marked permitted, but warns (mark it \"permitted with a warning\"):\n%s\nconfig: %s", ex.where, strings.Join(w, "\n"), ex.config)
		case ex.verdict != "permitted" && len(w) == 0:
			return nil, fmt.Sprintf("%s: marked %s, but gives no warning\nconfig: %s", ex.where, ex.verdict, ex.config)
		}
		return nil, ""
	}
	if err == nil {
		return nil, fmt.Sprintf("%s: marked prohibited (%v), but accepted\nconfig: %s", ex.where, ex.want, ex.config)
	}
	for e := range policy.Errors(err) {
		if !slices.Contains(got, e.Problem) {
			got = append(got, e.Problem)
		}
	}
	want := slices.Clone(ex.want)
	slices.Sort(got)
	slices.Sort(want)
	switch {
	case len(want) == 0:
		return got, fmt.Sprintf("%s: prohibited, but names no problem; the parser says %v", ex.where, got)
	case !slices.Equal(got, want):
		return got, fmt.Sprintf("%s: refused with %v, the document says %v:\n%v\nconfig: %s", ex.where, got, want, err, ex.config)
	}
	return got, ""
}

// TestDocs_examples checks every configuration example of the README, the
// reference and the user guide against the parser.
func TestDocs_examples(t *testing.T) {
	files := []string{"../README.md"}
	for _, pattern := range []string{"../docs/*.md", "../docs/guide/*.md"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	counts := map[string]int{}
	illustrated := map[policy.Problem]bool{}
	guide := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		exs, complaints := docExamples(f, data)
		for _, c := range complaints {
			t.Error(c)
		}
		for _, ex := range exs {
			counts[ex.verdict]++
			if strings.Contains(f, "/guide/") {
				guide++
			}
			got, failure := checkExample(ex)
			if failure != "" {
				t.Error(failure)
			}
			for _, p := range got {
				illustrated[p] = true
			}
		}
	}
	t.Logf("examples: %v (%d in the guide)", counts, guide)
	if counts["permitted"] < 20 || counts["prohibited"] < 40 || guide < 80 {
		t.Errorf("found %v examples, %d in the guide: fewer than the guide holds; is the extraction broken?", counts, guide)
	}
	// Every problem a small configuration can cause is illustrated by a
	// prohibited example, with the reason for the rule beside it.
	var missing []string
	for _, p := range allProblems(t) {
		switch p {
		case policy.ProblemTooManyErrors, policy.ProblemOverBudget:
			// They need more than a hundred errors or megabytes of
			// regexes: the guide describes them in words.
			continue
		}
		if !illustrated[p] {
			missing = append(missing, string(p))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no prohibited example in the docs shows the problems %v", missing)
	}
}

// TestDocs_verdictsAreRead shows that the extraction is not vacuous: an
// unmarked block is reported, an escaped pipe is read, and each wrong
// verdict fails.
func TestDocs_verdictsAreRead(t *testing.T) {
	doc := "# x\n\n<!-- prohibited: credentials -->\n```json\n{\"allowed_origins\": [\"https://a.example\"]}\n```\n\n" +
		"| config | verdict |\n|---|---|\n" +
		"| `{\"allowed_origins\": [\"https://Example.com\"]}` | prohibited: `credentials` — a reason |\n" +
		"| `{\"allowed_origin_regexes\": [\"^a$\\|^b$\"]}` | prohibited: `invalid_regex`, `no_origins` |\n" +
		"| `{\"allowed_origins\": [\"https://*.github.io\"]}` | permitted |\n" +
		"| `{\"allowed_origins\": [\"https://a.example\"]}` | permitted with a warning |\n" +
		"| `{\"allowed_origins\": [\"https://a.example\"], \"debug\": true}` | permitted with a warning: debug |\n" +
		"\n<!-- output -->\n```json\n{\n```\n\n```json\n{}\n```\n"
	exs, complaints := docExamples("doc.md", []byte(doc))
	if len(complaints) != 1 || !strings.Contains(complaints[0], "doc.md:21") {
		t.Errorf("complaints %q; want one, for the unmarked block at line 21", complaints)
	}
	if len(exs) != 7 {
		t.Fatalf("found %d examples, want 7: %+v", len(exs), exs)
	}
	if exs[2].config != `{"allowed_origin_regexes": ["^a$|^b$"]}` || !slices.Equal(exs[2].want, []policy.Problem{policy.ProblemInvalidRegex, policy.ProblemNoOrigins}) {
		t.Errorf("escaped pipe or verdict misread: %+v", exs[2])
	}
	for i, ex := range exs {
		_, failure := checkExample(ex)
		if ok := i == 5; (failure == "") != ok {
			t.Errorf("example %d (%s %v): failure %q", i, ex.verdict, ex.want, failure)
		}
	}
}
