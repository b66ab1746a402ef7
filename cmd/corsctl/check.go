package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
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
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: corsctl check [-q] CONFIG")
		fmt.Fprintln(w, "Validate CONFIG (\"-\" for stdin) with the policy code the plugin runs;")
		fmt.Fprintln(w, "exit 0 and print the effective policy, or exit 1 with every error on stderr.")
		fs.PrintDefaults()
	}
	pos, code, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "corsctl check: want one CONFIG file, got %d arguments\n", len(pos))
		fmt.Fprintln(stderr, "run 'corsctl check -h' for usage")
		return 2
	}
	p, code := loadPolicyFile(pos[0], stdin, stderr)
	if p == nil {
		return code
	}
	names := p.RuleNames()
	fmt.Fprintf(stdout, "ok: %s: %d %s (%s)", pos[0], len(names), pluralize(len(names), "rule", "rules"), strings.Join(names, ", "))
	if w := p.Warnings(); len(w) > 0 {
		fmt.Fprintf(stdout, ", %d %s", len(w), pluralize(len(w), "warning", "warnings"))
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "public suffix list: "+policy.PublicSuffixList())
	if !*quiet {
		fmt.Fprintln(stdout, indentJSON(p.String()))
	}
	return 0
}

// loadPolicyFile reads and parses the configuration at path ("-" for stdin). On
// failure it reports on stderr and returns nil and the exit code: 1 for an
// unreadable file or an invalid configuration. Warnings of a valid
// configuration are written to stderr.
func loadPolicyFile(path string, stdin io.Reader, stderr io.Writer) (*policy.Policy, int) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		fmt.Fprintf(stderr, "corsctl: cannot read config: %v\n", err)
		return nil, 1
	}
	p, err := policy.Parse(data)
	if err != nil {
		for _, line := range flattenErrors(err) {
			fmt.Fprintln(stderr, line)
		}
		return nil, 1
	}
	for _, w := range p.Warnings() {
		fmt.Fprintln(stderr, w)
	}
	return p, 0
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
