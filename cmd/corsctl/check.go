package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/corsfilter/corsfilter/policy"
)

func init() {
	commands["check"] = command{
		summary: "validate a plugin configuration and print its effective form",
		run:     runCheck,
	}
}

// runCheck implements `corsctl check [-q] CONFIG.json`: exit 0 with a
// one-line summary and the normalized effective policy on stdout, or exit 1
// with every `cors: ` error on stderr, one per line. Warnings go to stderr
// and never fail the check. CONFIG.json may be "-" for stdin.
func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quiet := fs.Bool("q", false, "print only the one-line summary, not the effective policy")
	format := fs.String("format", "text", "the output: `text`, or json (one object with the normalized policy, warnings and errors, for tools)")
	configFlag := fs.String("config", "", "the plugin configuration `file`, if not given as an argument")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: corsctl check [-q] [-format text|json] CONFIG")
		fmt.Fprintln(w, "Validate CONFIG (\"-\" for stdin) with the policy code the plugin runs;")
		fmt.Fprintln(w, "exit 0 and print the effective policy, or exit 1 with every error on stderr.")
		fs.PrintDefaults()
	}
	pos, code, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	path, ok := configArg(fs, pos, *configFlag, stderr)
	if !ok {
		return 2
	}
	switch *format {
	case "text":
	case "json":
		return checkJSON(path, stdin, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "corsctl check: -format %q: want text or json\n", *format)
		return 2
	}
	data, err := readFile(path, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl: cannot read config: %v\n", err)
		return 1
	}
	configs, skipped, err := findConfigs(data)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl: %s: %v\n", path, err)
		return 1
	}
	for _, where := range skipped {
		fmt.Fprintf(stderr, "corsctl: %s: skipped %s: another plugin's (only configurations that name cors are checked)\n", path, where)
	}
	code, valid := 0, 0
	for _, c := range configs {
		label := path
		if c.where != "" {
			label += ": " + c.where
		}
		p, err := policy.Parse(c.json)
		if err != nil {
			if c.where != "" {
				fmt.Fprintf(stderr, "invalid: %s:\n", label)
			}
			writeErrors(stderr, path, c, err)
			code = 1
			continue
		}
		valid++
		writeWarnings(stderr, c, p)
		names := p.RuleNames()
		fmt.Fprintf(stdout, "ok: %s: %d %s (%s)", label, len(names), pluralize(len(names), "rule", "rules"), strings.Join(names, ", "))
		if w := p.Warnings(); len(w) > 0 {
			fmt.Fprintf(stdout, ", %d %s", len(w), pluralize(len(w), "warning", "warnings"))
		}
		fmt.Fprintln(stdout)
		if v := p.Version(); v != "" {
			fmt.Fprintf(stdout, "version: %s\n", v)
		}
		if d := p.Description(); d != "" {
			fmt.Fprintf(stdout, "description: %s\n", indentLines(d, "  "))
		}
		if !*quiet {
			for _, r := range p.Describe() {
				if r.Description != "" {
					fmt.Fprintf(stdout, "rule %s: %s\n", r.Name, indentLines(r.Description, "  "))
				}
			}
			fmt.Fprintln(stdout, indentJSON(p.String()))
		}
	}
	if valid > 0 {
		fmt.Fprintln(stdout, "public suffix list: "+policy.PublicSuffixList())
	}
	return code
}

// loadConfig reads the one plugin configuration in the file at path ("-"
// for stdin): a JSON or YAML configuration, or the resource that carries
// it. On failure it prints one line and returns false.
func loadConfig(path string, stdin io.Reader, stderr io.Writer) (pluginConfig, bool) {
	data, err := readFile(path, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl: cannot read config: %v\n", err)
		return pluginConfig{}, false
	}
	configs, _, err := findConfigs(data)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl: %s: %v\n", path, err)
		return pluginConfig{}, false
	}
	if len(configs) > 1 {
		wheres := make([]string, len(configs))
		for i, c := range configs {
			wheres[i] = c.where
		}
		fmt.Fprintf(stderr, "corsctl: %s holds %d CORS plugin configurations (%s): put the one you mean in a file of its own (corsctl check lists them)\n",
			path, len(configs), strings.Join(wheres, "; "))
		return pluginConfig{}, false
	}
	return configs[0], true
}

// loadPolicyFile reads and parses the configuration at path ("-" for
// stdin). On failure it reports on stderr and returns nil and the exit
// code: 1 for an unreadable file or an invalid configuration. Warnings of a
// valid configuration are written to stderr.
func loadPolicyFile(path string, stdin io.Reader, stderr io.Writer) (*policy.Policy, int) {
	c, ok := loadConfig(path, stdin, stderr)
	if !ok {
		return nil, 1
	}
	p, err := policy.Parse(c.json)
	if err != nil {
		writeErrors(stderr, path, c, err)
		return nil, 1
	}
	writeWarnings(stderr, c, p)
	return p, 0
}

// writeErrors prints the configuration errors one per line, then, for a
// JSON syntax error, where encoding/json finds it.
func writeErrors(w io.Writer, path string, c pluginConfig, err error) {
	for _, line := range flattenErrors(err) {
		fmt.Fprintln(w, line)
	}
	if l := syntaxLine(path, c); l != "" {
		fmt.Fprintln(w, l)
	}
}

// writeWarnings prints the warnings of a valid configuration, each on a
// line of its own starting "warning: ", so that they stand apart from the
// errors that start "cors: ".
func writeWarnings(w io.Writer, c pluginConfig, p *policy.Policy) {
	for _, warning := range p.Warnings() {
		warning = strings.TrimPrefix(warning, "cors: ")
		if c.where != "" {
			warning = c.where + ": " + warning
		}
		fmt.Fprintln(w, "warning: "+warning)
	}
}

// flattenErrors returns the configuration errors that policy.Parse returns,
// so that each `cors: ` error stands on its own line.
func flattenErrors(err error) []string {
	var lines []string
	for e := range policy.Errors(err) {
		for line := range strings.SplitSeq(e.Error(), "\n") {
			if line != "" {
				lines = append(lines, line)
			}
		}
	}
	if len(lines) == 0 {
		lines = append(lines, "cors: invalid configuration")
	}
	return lines
}

// indentJSON indents one-line JSON for reading, keeping arrays of scalars
// (origins, methods, headers) on one line; anything else is returned as is.
func indentJSON(s string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	// json.Indent puts every array element on its own line, and a JSON
	// string never holds a raw newline, so the lines can be joined safely.
	lines := strings.Split(buf.String(), "\n")
	out := make([]string, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if !strings.HasSuffix(line, "[") {
			out = append(out, line)
			continue
		}
		j := i + 1
		var elems []string
		for ; j < len(lines); j++ {
			t := strings.TrimSpace(lines[j])
			if t == "]" || t == "]," {
				break
			}
			if strings.HasSuffix(t, "[") || strings.HasSuffix(t, "{") {
				elems = nil
				j = len(lines)
				break
			}
			elems = append(elems, strings.TrimSuffix(t, ","))
		}
		if j >= len(lines) {
			out = append(out, line)
			continue
		}
		out = append(out, line+strings.Join(elems, ", ")+strings.TrimSpace(lines[j]))
		i = j
	}
	return strings.Join(out, "\n")
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// indentLines indents the lines after the first of a multi-line text.
func indentLines(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}

// checkReport is check -format json's output, a contract for tools.
type checkReport struct {
	OK               bool           `json:"ok"`
	File             string         `json:"file"`
	Configs          []configReport `json:"configs"`
	Skipped          []string       `json:"skipped"`
	Error            string         `json:"error,omitempty"` // the file is unreadable or holds no configuration
	PublicSuffixList string         `json:"public_suffix_list"`
}

// configReport is one plugin configuration of the file.
type configReport struct {
	Where       string          `json:"where"` // "" for a file that is the configuration itself
	OK          bool            `json:"ok"`
	Version     string          `json:"version,omitempty"`
	Description string          `json:"description,omitempty"`
	Rules       []string        `json:"rules"`
	Policy      json.RawMessage `json:"policy"` // the normalized effective policy; null when invalid
	Warnings    []problemReport `json:"warnings"`
	Errors      []problemReport `json:"errors"`
}

// problemReport is one error or warning: its JSON path, its problem (for
// an error: the policy.Problem vocabulary) and the whole message.
type problemReport struct {
	Path    string `json:"path,omitempty"`
	Problem string `json:"problem,omitempty"`
	Message string `json:"message"`
}

// checkJSON implements check -format json: one JSON object on stdout,
// whatever the verdict; exit 0 when every configuration is valid, else 1.
func checkJSON(path string, stdin io.Reader, stdout, stderr io.Writer) int {
	rep := checkReport{File: path, Configs: []configReport{}, Skipped: []string{}, PublicSuffixList: policy.PublicSuffixList()}
	data, err := readFile(path, stdin)
	var configs []pluginConfig
	if err == nil {
		configs, rep.Skipped, err = findConfigs(data)
	}
	if err != nil {
		rep.Error = err.Error()
	}
	if rep.Skipped == nil {
		rep.Skipped = []string{}
	}
	rep.OK = err == nil
	for _, c := range configs {
		cr := configReport{Where: c.where, Rules: []string{}, Policy: json.RawMessage("null"), Warnings: []problemReport{}, Errors: []problemReport{}}
		p, err := policy.Parse(c.json)
		if err != nil {
			rep.OK = false
			for e := range policy.Errors(err) {
				cr.Errors = append(cr.Errors, problemReport{Path: e.Path, Problem: string(e.Problem), Message: e.Error()})
			}
			if l := syntaxLine(path, c); l != "" {
				cr.Errors = append(cr.Errors, problemReport{Problem: string(policy.ProblemInvalidJSON), Message: l})
			}
		} else {
			cr.OK, cr.Version, cr.Description, cr.Rules = true, p.Version(), p.Description(), p.RuleNames()
			cr.Policy = json.RawMessage(p.String())
			for _, w := range p.Warnings() {
				cr.Warnings = append(cr.Warnings, problemReport{Path: warningPath(w), Message: w})
			}
		}
		rep.Configs = append(rep.Configs, cr)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "corsctl check: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", b)
	if !rep.OK {
		return 1
	}
	return 0
}

// warningPath returns the JSON path a warning "cors: <path>: <text>"
// names, "" when it names none.
func warningPath(w string) string {
	rest := strings.TrimPrefix(w, "cors: ")
	p, _, ok := strings.Cut(rest, ": ")
	if !ok || strings.ContainsAny(p, " \"") {
		return ""
	}
	return p
}
