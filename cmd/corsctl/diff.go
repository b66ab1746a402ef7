package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/corsfilter/corsfilter/policy"
)

func init() {
	commands["diff"] = command{
		summary: "compare two policies rule by rule, classifying each change as widening or narrowing",
		run:     runDiff,
	}
}

// The exit codes of diff, a contract for CI.
const (
	diffSame      = 0 // no change in behaviour (or a narrowing no recorded request feels)
	diffWidens    = 3 // someone or something may now get through: route to a security review
	diffBreaks    = 4 // it narrows, and recorded traffic has requests it would now cut off
	widening      = "widening"
	narrowing     = "narrowing"
	wideAndNarrow = "widening+narrowing" // requests move between rules: either may happen
	neutral       = "neutral"            // no request gets another verdict
)

// change is one semantic difference between two policies.
type change struct {
	Rule string // "" for the policy as a whole
	Kind string // widening, narrowing, widening+narrowing or neutral
	What string
}

func runDiff(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	traffic := fs.String("traffic", "", "replay the recorded requests of `requests.jsonl` (replay input lines) through both policies, listing every request whose verdict changes")
	engineName := fs.String("engine", "wasm", engineUsage+", for -traffic")
	wasmPath := fs.String("wasm", "", wasmUsage)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: corsctl diff OLD NEW [-traffic requests.jsonl] [-engine wasm|policy]")
		fmt.Fprintln(w, "Compare the effective rules of two policies and classify each change as widening")
		fmt.Fprintln(w, "(who or what may now get through) or narrowing (who may be cut off).")
		fmt.Fprintln(w, "exit 0: no change in behaviour, or a narrowing that no recorded request feels;")
		fmt.Fprintln(w, "exit 3: the change widens; exit 4: it cuts off requests of the -traffic file (4 wins over 3).")
		fs.PrintDefaults()
	}
	pos, code, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		fmt.Fprintf(stderr, "corsctl diff: want OLD and NEW, got %d arguments\n", len(pos))
		fmt.Fprintln(stderr, "run 'corsctl diff -h' for usage")
		return 2
	}
	oldP, code := loadPolicyFile(pos[0], stdin, stderr)
	if oldP == nil {
		return code
	}
	newP, code := loadPolicyFile(pos[1], stdin, stderr)
	if newP == nil {
		return code
	}
	changes := diffPolicies(oldP, newP)
	widens, narrows := false, false
	for _, c := range changes {
		widens = widens || c.Kind == widening || c.Kind == wideAndNarrow
		narrows = narrows || c.Kind == narrowing || c.Kind == wideAndNarrow
	}
	writeChanges(stdout, changes)

	cutOff, newlyAllowed := 0, 0
	if *traffic != "" {
		var code int
		cutOff, newlyAllowed, code = diffTraffic(stdout, stderr, *traffic, *engineName, *wasmPath, pos[0], pos[1])
		if code != 0 {
			return code
		}
	}
	switch {
	case cutOff > 0:
		fmt.Fprintf(stdout, "verdict: narrows, and cuts off %d recorded %s (exit 4)\n", cutOff, pluralize(cutOff, "request", "requests"))
		return diffBreaks
	case widens || newlyAllowed > 0:
		fmt.Fprintln(stdout, "verdict: widens: who or what may get through grows; have it reviewed (exit 3)")
		return diffWidens
	case narrows && *traffic != "":
		fmt.Fprintln(stdout, "verdict: narrows, and no recorded request is cut off (exit 0)")
	case narrows:
		fmt.Fprintln(stdout, "verdict: narrows; pass -traffic to see whether a known client is cut off (exit 0)")
	default:
		fmt.Fprintln(stdout, "verdict: no change in behaviour (exit 0)")
	}
	return diffSame
}

func writeChanges(w io.Writer, changes []change) {
	if len(changes) == 0 {
		fmt.Fprintln(w, "no semantic change")
		return
	}
	rule := "\x00"
	for _, c := range changes {
		if c.Rule != rule {
			rule = c.Rule
			if rule == "" {
				fmt.Fprintln(w, "policy:")
			} else {
				fmt.Fprintf(w, "rule %s:\n", rule)
			}
		}
		fmt.Fprintf(w, "  %-18s  %s\n", c.Kind, c.What)
	}
}

// diffPolicies compares the normalized effective forms of two policies:
// the order of their rules, then each rule present in both, by name.
func diffPolicies(oldP, newP *policy.Policy) []change {
	var out []change
	add := func(rule, kind, what string) { out = append(out, change{rule, kind, what}) }
	if oldP.Version() != newP.Version() {
		add("", neutral, fmt.Sprintf("version: %q → %q", oldP.Version(), newP.Version()))
	}
	if oldP.Description() != newP.Description() {
		add("", neutral, "description changed")
	}
	olds, news := oldP.Describe(), newP.Describe()
	oldBy, newBy := map[string]*policy.RuleDescription{}, map[string]*policy.RuleDescription{}
	for i := range olds {
		oldBy[olds[i].Name] = &olds[i]
	}
	for i := range news {
		newBy[news[i].Name] = &news[i]
	}
	for i := range news {
		r := &news[i]
		if oldBy[r.Name] != nil {
			continue
		}
		kind, why := widening, "its origins may now get through"
		if grantsNothing(r) {
			kind, why = narrowing, "it allows no origin, and takes the requests it matches from the rules after it"
		} else if i < len(news)-1 {
			kind, why = wideAndNarrow, "its origins may now get through, and it takes the requests it matches from the rules after it"
		}
		add("", kind, fmt.Sprintf("rule %s added at position %d: %s", r.Name, i+1, why))
	}
	for i := range olds {
		r := &olds[i]
		if newBy[r.Name] != nil {
			continue
		}
		kind, why := narrowing, "the requests it allowed now fall to the rules after it, or to none"
		if grantsNothing(r) {
			kind, why = widening, "the requests it denied now fall to the rules after it, or to none (the upstream's own CORS headers)"
		}
		add("", kind, fmt.Sprintf("rule %s removed: %s", r.Name, why))
	}
	// Order: the rules in both, in each policy's order.
	var oldOrder, newOrder []string
	for _, r := range olds {
		if newBy[r.Name] != nil {
			oldOrder = append(oldOrder, r.Name)
		}
	}
	for _, r := range news {
		if oldBy[r.Name] != nil {
			newOrder = append(newOrder, r.Name)
		}
	}
	if !slices.Equal(oldOrder, newOrder) {
		add("", wideAndNarrow, fmt.Sprintf("rules reordered: %s → %s (the first match wins: a request two rules match moves to the other)",
			strings.Join(oldOrder, ", "), strings.Join(newOrder, ", ")))
	}
	for _, name := range newOrder {
		out = append(out, diffRule(oldBy[name], newBy[name])...)
	}
	return out
}

// grantsNothing reports whether a rule allows no origin at all.
func grantsNothing(r *policy.RuleDescription) bool {
	return len(r.Origins) == 0 && len(r.OriginRegexes) == 0 || r.Mode == "off"
}

// diffRule compares two versions of one rule.
func diffRule(o, n *policy.RuleDescription) []change {
	var out []change
	add := func(kind, what string) { out = append(out, change{n.Name, kind, what}) }

	// What the rule matches: requests move between it and the others.
	for _, f := range []struct {
		name     string
		old, new []string
	}{
		{"match.hosts", o.Match.Hosts, n.Match.Hosts}, {"match.paths", o.Match.Paths, n.Match.Paths},
		{"match.path_prefixes", o.Match.PathPrefixes, n.Match.PathPrefixes},
		{"match.path_regexes", o.Match.PathRegexes, n.Match.PathRegexes},
		{"match.route_names", o.Match.RouteNames, n.Match.RouteNames}, {"match.methods", o.Match.Methods, n.Match.Methods},
	} {
		added, removed := setDiff(f.old, f.new)
		if len(added)+len(removed) > 0 {
			add(wideAndNarrow, f.name+": "+plusMinus(added, removed)+" (requests move between this rule and the others)")
		}
	}

	// Origins: who may call.
	added, removed := setDiff(o.Origins, n.Origins)
	var wider, narrower []string
	for _, a := range added {
		if !coversOrigin(o.Origins, a) {
			wider = append(wider, a)
		}
	}
	for _, r := range removed {
		if !coversOrigin(n.Origins, r) {
			narrower = append(narrower, r)
		}
	}
	what := "allowed_origins"
	if n.Credentials || o.Credentials {
		what += " (with credentials)"
	}
	if len(wider) > 0 {
		add(widening, what+": + "+strings.Join(wider, ", "))
	}
	if len(narrower) > 0 {
		add(narrowing, what+": - "+strings.Join(narrower, ", "))
	}
	if len(wider)+len(narrower) == 0 && len(added)+len(removed) > 0 {
		add(neutral, "allowed_origins: "+plusMinus(added, removed)+" (covered by the entries both keep)")
	}
	added, removed = setDiff(o.OriginRegexes, n.OriginRegexes)
	if len(added) > 0 {
		add(widening, "allowed_origin_regexes: + "+strings.Join(added, ", "))
	}
	if len(removed) > 0 {
		add(narrowing, "allowed_origin_regexes: - "+strings.Join(removed, ", "))
	}

	// Methods, request headers, exposed headers: "*" covers any name
	// (any but authorization, for request headers).
	tokens := func(key string, old, new []string, except string) {
		added, removed := setDiff(old, new)
		var wider, narrower []string
		for _, a := range added {
			if !slices.Contains(old, "*") || a == except {
				wider = append(wider, a)
			}
		}
		for _, r := range removed {
			if !slices.Contains(new, "*") || r == except {
				narrower = append(narrower, r)
			}
		}
		if len(wider) > 0 {
			add(widening, key+": + "+strings.Join(wider, ", "))
		}
		if len(narrower) > 0 {
			add(narrowing, key+": - "+strings.Join(narrower, ", "))
		}
	}
	tokens("allowed_methods", o.Methods, n.Methods, "")
	tokens("allowed_request_headers", o.RequestHeaders, n.RequestHeaders, "authorization")
	tokens("exposed_response_headers", o.ExposedHeaders, n.ExposedHeaders, "")

	flag := func(key string, old, new, wideWhenTrue bool, why string) {
		if old == new {
			return
		}
		kind := narrowing
		if new == wideWhenTrue {
			kind = widening
		}
		add(kind, fmt.Sprintf("%s: %t → %t%s", key, old, new, why))
	}
	flag("allow_credentials", o.Credentials, n.Credentials, true, "")
	flag("allow_private_network", o.PrivateNetwork, n.PrivateNetwork, true, "")
	flag("reject_disallowed_origins", o.RejectDisallowedOrigins, n.RejectDisallowedOrigins, false, " (whether requests from disallowed origins reach the upstream)")
	flag("forward_denied_preflights", o.ForwardDeniedPreflights, n.ForwardDeniedPreflights, true, " (whether denied preflights reach the upstream)")
	flag("debug", o.Debug, n.Debug, true, " (x-cors-debug discloses the policy to anyone who asks)")
	flag("dangerously_allow_null_origin", o.AllowNullOrigin, n.AllowNullOrigin, true, "")
	flag("dangerously_allow_insecure_origins_with_credentials", o.AllowInsecureOriginsWithCredentials, n.AllowInsecureOriginsWithCredentials, true, "")
	flag("dangerously_allow_private_network_from_any_origin", o.AllowPrivateNetworkFromAnyOrigin, n.AllowPrivateNetworkFromAnyOrigin, true, "")

	if o.MaxAge != n.MaxAge {
		// Browsers cache a preflight 5 s without Access-Control-Max-Age.
		oa, na := effectiveMaxAge(o.MaxAge), effectiveMaxAge(n.MaxAge)
		kind, why := neutral, "browsers preflight more often; nobody is cut off"
		if na > oa {
			kind, why = widening, "a grant outlives its revocation longer in browsers' caches"
		}
		add(kind, fmt.Sprintf("max_age_seconds: %s → %s (%s)", maxAgeText(o.MaxAge), maxAgeText(n.MaxAge), why))
	}
	if o.Mode != n.Mode {
		kind := neutral
		switch {
		case o.Mode == "enforce":
			kind = widening // denials are no longer enforced
		case n.Mode == "enforce":
			kind = narrowing
		}
		add(kind, fmt.Sprintf("mode: %s → %s", o.Mode, n.Mode))
	}
	if o.PreflightStatus != n.PreflightStatus {
		add(neutral, fmt.Sprintf("preflight_status: %d → %d", o.PreflightStatus, n.PreflightStatus))
	}
	if o.Description != n.Description {
		add(neutral, "description changed")
	}
	if o.Internal != n.Internal {
		add(neutral, fmt.Sprintf("internal: %t → %t (corsctl doc %s it)", o.Internal, n.Internal, map[bool]string{true: "leaves out", false: "shows"}[n.Internal]))
	}
	return out
}

func effectiveMaxAge(s int) int {
	if s < 0 {
		return 5
	}
	return s
}

func maxAgeText(s int) string {
	if s < 0 {
		return "absent (5 s)"
	}
	return strconv.Itoa(s)
}

// setDiff returns the elements of b not in a, and of a not in b, in order.
func setDiff(a, b []string) (added, removed []string) {
	for _, x := range b {
		if !slices.Contains(a, x) {
			added = append(added, x)
		}
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}

func plusMinus(added, removed []string) string {
	var parts []string
	if len(added) > 0 {
		parts = append(parts, "+ "+strings.Join(added, ", "))
	}
	if len(removed) > 0 {
		parts = append(parts, "- "+strings.Join(removed, ", "))
	}
	return strings.Join(parts, "; ")
}

// coversOrigin reports whether an entry of list, other than x itself,
// admits every origin x admits: "*", or a subdomain or port pattern
// (canonical forms, as Describe gives them).
func coversOrigin(list []string, x string) bool {
	if x == "*" {
		return false
	}
	xs, xh, xp := splitOrigin(x)
	for _, e := range list {
		if e == x {
			continue
		}
		if e == "*" {
			return x != "null"
		}
		es, eh, ep := splitOrigin(e)
		if es != xs || es == "" {
			continue
		}
		portOK := ep == xp || ep == "*"
		hostOK := eh == xh
		if base, ok := strings.CutPrefix(eh, "*."); ok {
			h := strings.TrimPrefix(xh, "*.")
			hostOK = strings.HasSuffix(h, "."+base) || xh == eh
		}
		if portOK && hostOK {
			return true
		}
	}
	return false
}

// splitOrigin splits a canonical origin pattern into scheme, host (with
// its "*." when it has one) and port ("" for the default).
func splitOrigin(s string) (scheme, host, port string) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", "", ""
	}
	host = rest
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
	}
	return scheme, host, port
}

// diffTraffic replays the recorded requests through both policies and
// lists each whose verdict changes. It returns how many the new policy
// cuts off (denied now, or no longer allowed) and how many it newly
// allows, and a non-zero exit code on failure.
func diffTraffic(stdout, stderr io.Writer, path, engineName, wasmPath, oldPath, newPath string) (cutOff, newlyAllowed, code int) {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl diff: %v\n", err)
		return 0, 0, 1
	}
	oldE, code := newEngine(engineName, wasmPath, oldPath, stderr)
	if oldE == nil {
		return 0, 0, code
	}
	defer oldE.close()
	newE, code := newEngine(engineName, wasmPath, newPath, stderr)
	if newE == nil {
		return 0, 0, code
	}
	defer newE.close()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	total := 0
	var lines []string
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		req, resp, id, err := parseReplayLine(line)
		if err != nil {
			fmt.Fprintf(stderr, "corsctl diff: %s: line %d: %v\n", path, n, err)
			return 0, 0, 1
		}
		total++
		o, err := oldE.run(req, resp)
		if err == nil {
			var nr result
			nr, err = newE.run(req, resp)
			if err == nil {
				ov, nv := expectation(o.Outcome), expectation(nr.Outcome)
				if ov == nv {
					continue
				}
				mark := ""
				switch {
				case nv == "denied" || ov == "allowed":
					cutOff++
					mark = " CUT OFF"
				case nv == "allowed":
					newlyAllowed++
					mark = " NEWLY ALLOWED"
				}
				origin := ""
				for _, h := range req.Headers {
					if strings.EqualFold(h.Name, "origin") {
						origin = " from " + h.Value
					}
				}
				lines = append(lines, fmt.Sprintf("  line %d (id %s): %s %s%s%s: %s (%s) → %s (%s)%s", n, id, req.Method, req.Authority, req.Path, origin,
					ov, ruleText(o.Rule), nv, ruleText(nr.Rule), mark))
				continue
			}
		}
		fmt.Fprintf(stderr, "corsctl diff: %s: line %d: %v\n", path, n, err)
		return 0, 0, 1
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(stderr, "corsctl diff: %s: %v\n", path, err)
		return 0, 0, 1
	}
	fmt.Fprintf(stdout, "traffic: %d of %d recorded %s change verdict (engine %s)\n", len(lines), total, pluralize(total, "request", "requests"), engineName)
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	return cutOff, newlyAllowed, 0
}
