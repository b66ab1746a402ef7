package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/corsfilter/corsfilter/host"
	"github.com/corsfilter/corsfilter/policy"
)

// This file gives explain and replay the origin sets a registry would
// serve (-origin-set NAME=FILE, the file holding the registry's answer,
// {"origins": [...]}), and reports what candidate policies did.

// setFlags is a repeatable -origin-set NAME=FILE.
type setFlags map[string]string

func (s *setFlags) String() string {
	var out []string
	for k, v := range *s {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func (s *setFlags) Set(v string) error {
	name, file, ok := strings.Cut(v, "=")
	if !ok || name == "" || file == "" {
		return errors.New("want NAME=FILE: an origin source's name and a file with its registry's answer")
	}
	if *s == nil {
		*s = setFlags{}
	}
	(*s)[name] = file
	return nil
}

const setUsage = "an origin source's set, `NAME=FILE`: FILE holds the registry's answer {\"origins\":[...]}, repeatable (without it a source's set is empty, as before its first fetch)"

// readSets reads each -origin-set file, checks that the policy has the
// source, and returns the answers by source index.
func readSets(p *policy.Policy, sets setFlags) (map[int][]byte, error) {
	out := map[int][]byte{}
	sources := p.Sources()
	for name, file := range sets {
		i := -1
		for k, s := range sources {
			if s.Name == name {
				i = k
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("-origin-set %s: the configuration has no origin source %q", name, name)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("-origin-set %s: %v", name, err)
		}
		out[i] = b
	}
	return out, nil
}

// applySets installs the -origin-set answers in p, validated as the
// plugin validates a registry's answer; dropped entries are reported.
func applySets(p *policy.Policy, sets setFlags, stderr io.Writer) bool {
	answers, err := readSets(p, sets)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl: %v\n", err)
		return false
	}
	sources := p.Sources()
	for i, b := range answers {
		s, dropped, samples, err := policy.ParseOriginSet(b, sources[i].MaxOrigins)
		for _, d := range samples {
			fmt.Fprintf(stderr, "corsctl: origin set %s: entry %d %s dropped: %s\n", sources[i].Name, d.Index, policy.Quote(d.Value), d.Reason)
		}
		if dropped > len(samples) {
			fmt.Fprintf(stderr, "corsctl: origin set %s: %d more entries dropped\n", sources[i].Name, dropped-len(samples))
		}
		if err != nil {
			fmt.Fprintf(stderr, "corsctl: origin set %s: the plugin would refuse this answer and keep its last set: %v\n", sources[i].Name, err)
			return false
		}
		p.SetOriginSet(i, s)
	}
	return true
}

// registryOptions makes the host serve each -origin-set answer as the
// source's registry, on a fake clock that replay advances past the first
// fetch.
func registryOptions(config []byte, sets setFlags) ([]host.Option, error) {
	if len(sets) == 0 {
		return nil, nil
	}
	p, err := policy.Parse(config)
	if err != nil {
		return nil, nil // the plugin reports it
	}
	answers, err := readSets(p, sets)
	if err != nil {
		return nil, err
	}
	opts := []host.Option{host.WithFakeClock(time.Now())}
	byCluster := map[string]map[string][]byte{} // cluster → path → answer
	for i, b := range answers {
		s := p.Sources()[i]
		if byCluster[s.Cluster] == nil {
			byCluster[s.Cluster] = map[string][]byte{}
		}
		byCluster[s.Cluster][s.Path] = b
	}
	for cluster, paths := range byCluster {
		opts = append(opts, host.WithUpstream(cluster, func(c host.HTTPCall) host.HTTPAnswer {
			if b, ok := paths[c.Header(":path")]; ok {
				return host.HTTPAnswer{Body: b, Headers: []host.Header{{Name: "content-type", Value: "application/json"}}}
			}
			return host.HTTPAnswer{Status: 404}
		}))
	}
	return opts, nil
}

// candidateLines explains what a rule's candidate did with the request,
// and which origin set allowed the origin.
func candidateLines(p *policy.Policy, r *policy.Request, d *policy.Decision) []string {
	var out []string
	origin := ""
	if len(r.Origin) == 1 {
		origin = r.Origin[0]
	}
	if set := p.SetAllowing(d, origin); set != "" && !d.Outcome.Denied() {
		out = append(out, "origin:    allowed by origin set "+policy.Quote(set)+", as last fetched")
	}
	has, percent := p.HasCandidate(d.RuleIndex)
	if !has {
		return out
	}
	bucket := policy.RolloutBucket(origin)
	if d.CandidateEnforced {
		out = append(out, "decided:   by the rule's candidate: candidate_rollout_percent "+strconv.Itoa(percent)+
			" covers this origin (its bucket "+strconv.Itoa(bucket)+" is below "+strconv.Itoa(percent*100)+" of 10000)")
	} else {
		out = append(out, "decided:   by the rule; its candidate ran in the shadow (candidate_rollout_percent "+strconv.Itoa(percent)+
			", this origin's bucket "+strconv.Itoa(bucket)+" of 10000)")
	}
	switch d.Divergence {
	case policy.CandidateWouldDeny:
		out = append(out, "candidate: diverges: the candidate denies what the rule allows (candidate_would_deny)")
	case policy.CandidateWouldAllow:
		out = append(out, "candidate: diverges: the candidate allows what the rule denies (candidate_would_allow)")
	default:
		out = append(out, "candidate: agrees with the rule")
	}
	return out
}

// divergences tallies replay's candidate divergences per rule.
type divergences map[string]*[2]int

// counted returns the divergence the one stream between two readings of
// the counters had ("" for none), and tallies it.
func (t divergences) counted(before, after map[string]uint64) string {
	for name, v := range after {
		if v <= before[name] || !strings.HasPrefix(name, "cors.") {
			continue
		}
		for k, dir := range []policy.Divergence{policy.CandidateWouldDeny, policy.CandidateWouldAllow} {
			if rule, ok := strings.CutSuffix(strings.TrimPrefix(name, "cors."), "."+dir.String()); ok {
				if t[rule] == nil {
					t[rule] = &[2]int{}
				}
				t[rule][k]++
				return dir.String()
			}
		}
	}
	return ""
}

// report writes one line per rule with divergences.
func (t divergences) report(w io.Writer, n int) {
	rules := make([]string, 0, len(t))
	for r := range t {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, r := range rules {
		fmt.Fprintf(w, "corsctl: replay: rule %s: the candidate diverged on %d of %d requests: %d candidate_would_deny, %d candidate_would_allow\n",
			policy.Quote(r), t[r][0]+t[r][1], n, t[r][0], t[r][1])
	}
}
