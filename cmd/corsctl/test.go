package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/corsfilter/corsfilter/host"
	"sigs.k8s.io/yaml"
)

func init() {
	commands["test"] = command{
		summary: "run a suite of expected verdicts against a policy, through the real cors.wasm",
		run:     runTest,
	}
}

// testCase is one case of a CASES file: a replay input line plus what it
// expects. Its keys are a contract.
type testCase struct {
	Name   string // "name", else the replay "id", else "case N"
	Expect string // allowed, denied, not_cors or untouched
	Rule   *string
	// MustHave are headers the client must receive: "name" (any value)
	// or "name: value" (exactly that value); MustNotHave are names it
	// must not.
	MustHave, MustNotHave []string

	req  host.Request
	resp host.Response
}

// caseKeys are the keys a case adds to a replay input line.
var caseKeys = []string{"name", "expect", "rule", "must_have", "must_not_have"}

var expectations = []string{"allowed", "denied", "not_cors", "untouched"}

// caseOutcome is what one case got, and why it failed ("" when it passed).
type caseOutcome struct {
	c       *testCase
	got     result
	failure []string
	elapsed time.Duration
}

func runTest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engineName := fs.String("engine", "wasm", engineUsage)
	wasmPath := fs.String("wasm", "", wasmUsage)
	junit := fs.String("junit", "", "also write the results as JUnit XML to `file`, for CI systems")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: corsctl test POLICY CASES [-engine wasm|policy] [-junit FILE]")
		fmt.Fprintln(w, "Run every case of CASES (a JSON array or a YAML list) against POLICY and print a table;")
		fmt.Fprintln(w, "exit 1 when any case gets another verdict, rule or headers than it expects.")
		fmt.Fprintln(w, `A case is a replay input object plus "expect": allowed, denied, not_cors or untouched, and optionally`)
		fmt.Fprintln(w, `"name", "rule" (the rule that must decide it, "" for none), "must_have": ["name", "name: value", ...]`)
		fmt.Fprintln(w, `and "must_not_have": ["name", ...] (headers of what the client receives).`)
		fs.PrintDefaults()
	}
	pos, code, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		fmt.Fprintf(stderr, "corsctl test: want POLICY and CASES, got %d arguments\n", len(pos))
		fmt.Fprintln(stderr, "run 'corsctl test -h' for usage")
		return 2
	}
	data, err := readFile(pos[1], stdin)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl test: cannot read cases: %v\n", err)
		return 1
	}
	cases, err := parseCases(data)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl test: %s: %v\n", pos[1], err)
		return 1
	}
	eng, code := newEngine(*engineName, *wasmPath, pos[0], stderr)
	if eng == nil {
		return code
	}
	defer eng.close()
	start := time.Now()
	outcomes := make([]caseOutcome, len(cases))
	failed := 0
	for i := range cases {
		t0 := time.Now()
		o := caseOutcome{c: &cases[i]}
		o.got, err = eng.run(cases[i].req, cases[i].resp)
		if err != nil {
			o.failure = []string{err.Error()}
		} else {
			o.failure = cases[i].check(&o.got)
		}
		o.elapsed = time.Since(t0)
		if len(o.failure) > 0 {
			failed++
		}
		outcomes[i] = o
	}
	writeTable(stdout, outcomes)
	fmt.Fprintf(stdout, "%d %s, %d passed, %d failed (engine %s)\n", len(cases), pluralize(len(cases), "case", "cases"), len(cases)-failed, failed, *engineName)
	if *junit != "" {
		if err := writeJUnit(*junit, pos[0], pos[1], outcomes, time.Since(start)); err != nil {
			fmt.Fprintf(stderr, "corsctl test: %v\n", err)
			return 1
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// parseCases decodes a JSON array or a YAML list of cases, strictly: every
// problem of every case is reported, each naming its case.
func parseCases(data []byte) ([]testCase, error) {
	js := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\uFEFF")))
	if len(js) == 0 || js[0] != '[' {
		var err error
		if js, err = yaml.YAMLToJSONStrict(data); err != nil {
			return nil, yamlError(err, 1)
		}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("want a JSON array (or a YAML list) of cases: %v", err)
	}
	if len(raw) == 0 {
		return nil, errors.New("no cases")
	}
	var errs []error
	cases := make([]testCase, 0, len(raw))
	names := map[string]int{}
	for i, r := range raw {
		c, err := parseCase(r, i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := names[c.Name]; dup {
			errs = append(errs, fmt.Errorf("case %d (%s): the same name as case %d", i+1, c.Name, prev))
		}
		names[c.Name] = i + 1
		cases = append(cases, c)
	}
	return cases, errors.Join(errs...)
}

// parseCase decodes case i: its own keys, then the rest as a replay line.
func parseCase(r json.RawMessage, i int) (testCase, error) {
	where := "case " + strconv.Itoa(i+1)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(r, &obj); err != nil || obj == nil {
		return testCase{}, fmt.Errorf("%s: want an object", where)
	}
	var c testCase
	take := func(key string, v any) error {
		raw, ok := obj[key]
		if !ok {
			return nil
		}
		delete(obj, key)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("%q: %v", key, err)
		}
		return nil
	}
	var errs []string
	for _, kv := range []struct {
		key string
		v   any
	}{{"name", &c.Name}, {"expect", &c.Expect}, {"rule", &c.Rule}, {"must_have", &c.MustHave}, {"must_not_have", &c.MustNotHave}} {
		if err := take(kv.key, kv.v); err != nil {
			errs = append(errs, err.Error())
		}
	}
	line, _ := json.Marshal(obj)
	req, resp, id, err := parseReplayLine(line)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "unknown field") {
			msg += " (a case takes the replay input keys and " + strings.Join(caseKeys, ", ") + ")"
		}
		errs = append(errs, msg)
	}
	if c.Name == "" {
		c.Name = where
		if s := string(id); s != "null" && s != "" {
			c.Name = strings.Trim(s, `"`)
		}
	}
	switch {
	case c.Expect == "":
		errs = append(errs, `"expect" is required: `+strings.Join(expectations, ", "))
	case !contains(expectations, c.Expect):
		msg := fmt.Sprintf(`"expect": %q is not one of %s`, c.Expect, strings.Join(expectations, ", "))
		if s := closest(c.Expect, expectations); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		errs = append(errs, msg)
	}
	for _, h := range append(append([]string{}, c.MustHave...), c.MustNotHave...) {
		if name, _, _ := strings.Cut(h, ":"); strings.TrimSpace(name) == "" {
			errs = append(errs, fmt.Sprintf("header %q: want \"name\" or \"name: value\"", h))
		}
	}
	for _, h := range c.MustNotHave {
		if strings.Contains(h, ":") {
			errs = append(errs, fmt.Sprintf(`"must_not_have": %q: want a header name only`, h))
		}
	}
	if len(errs) > 0 {
		return testCase{}, fmt.Errorf("%s (%s): %s", where, c.Name, strings.Join(errs, "; "))
	}
	c.req, c.resp = req, resp
	return c, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// check returns how got differs from what the case expects.
func (c *testCase) check(got *result) []string {
	var fails []string
	if !got.Counted {
		return []string{"the plugin counted no outcome (an internal fault?)"}
	}
	if g := expectation(got.Outcome); g != c.Expect {
		fails = append(fails, fmt.Sprintf("want %s, got %s (%s)", c.Expect, g, got.Outcome))
	}
	if c.Rule != nil && *c.Rule != got.Rule {
		fails = append(fails, fmt.Sprintf("want rule %s, got %s", ruleText(*c.Rule), ruleText(got.Rule)))
	}
	for _, h := range c.MustHave {
		name, want, hasValue := strings.Cut(h, ":")
		name, want = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(want)
		v, ok := got.header(name)
		switch {
		case !ok:
			fails = append(fails, "missing header "+name)
		case hasValue && v != want:
			fails = append(fails, fmt.Sprintf("header %s: want %q, got %q", name, want, v))
		}
	}
	for _, name := range c.MustNotHave {
		name = strings.ToLower(strings.TrimSpace(name))
		if v, ok := got.header(name); ok {
			fails = append(fails, fmt.Sprintf("unwanted header %s: %s", name, v))
		}
	}
	return fails
}

func ruleText(r string) string {
	if r == "" {
		return "(none)"
	}
	return r
}

func writeTable(w io.Writer, outcomes []caseOutcome) {
	rows := [][]string{{"RESULT", "CASE", "EXPECT", "GOT", "RULE", "STATUS"}}
	for _, o := range outcomes {
		res, got := "ok", expectation(o.got.Outcome)+" ("+o.got.Outcome.String()+")"
		if len(o.failure) > 0 {
			res = "FAIL"
		}
		if !o.got.Counted {
			got = "?"
		}
		rows = append(rows, []string{res, o.c.Name, o.c.Expect, got, ruleText(o.got.Rule), strconv.Itoa(o.got.Status)})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, cell := range r {
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(rows[0])
	for i, o := range outcomes {
		line(rows[i+1])
		for _, f := range o.failure {
			fmt.Fprintf(w, "%s  %s\n", strings.Repeat(" ", widths[0]), f)
		}
	}
}

// JUnit XML, as Jenkins, GitLab and the GitHub test reporters read it.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(path, policyPath, casesPath string, outcomes []caseOutcome, elapsed time.Duration) error {
	suite := junitSuite{Name: "corsctl test " + policyPath + " " + casesPath, Tests: len(outcomes), Time: seconds(elapsed)}
	for _, o := range outcomes {
		jc := junitCase{Name: o.c.Name, ClassName: casesPath, Time: seconds(o.elapsed)}
		if len(o.failure) > 0 {
			suite.Failures++
			jc.Failure = &junitFailure{Message: o.failure[0], Type: "mismatch",
				Text: strings.Join(o.failure, "\n") + fmt.Sprintf("\ngot: %s, rule %s, status %d, headers %v", o.got.Outcome, ruleText(o.got.Rule), o.got.Status, o.got.Headers)}
		}
		suite.Cases = append(suite.Cases, jc)
	}
	b, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{suite}}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
