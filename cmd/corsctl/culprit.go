package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/corsfilter/corsfilter/policy"
)

// This file finds what in a denied request the denial is about: which
// origin, which method, which header. The policy's Decision.Reason is a
// constant, so that deciding allocates nothing; explain, which can afford
// the work, names the culprit from the request and the effective rule, and
// finds a denied header by deciding again with each requested header alone.

// effectiveRule is one rule of the effective policy (Policy.String): every
// field resolved, safelisted methods and response headers dropped.
type effectiveRule struct {
	Name           string   `json:"name"`
	Origins        []string `json:"allowed_origins"`
	OriginRegexes  []string `json:"allowed_origin_regexes"`
	Methods        []string `json:"allowed_methods"`
	Headers        []string `json:"allowed_request_headers"`
	PrivateNetwork bool     `json:"allow_private_network"`
}

// ruleAt returns rule i of the policy's effective form.
func ruleAt(p *policy.Policy, i int) (effectiveRule, bool) {
	var eff struct {
		Rules []effectiveRule `json:"rules"`
	}
	if err := json.Unmarshal([]byte(p.String()), &eff); err != nil || i < 0 || i >= len(eff.Rules) {
		return effectiveRule{}, false
	}
	return eff.Rules[i], true
}

// culprit says, in one sentence, what in the request a denial is about and
// what the rule allows instead; "" when the decision is not a denial.
func culprit(p *policy.Policy, r *policy.Request, d *policy.Decision) string {
	if !d.Outcome.Denied() {
		return ""
	}
	ru, ok := ruleAt(p, d.RuleIndex)
	if !ok {
		return ""
	}
	rule := "rule " + strconv.Quote(ru.Name)
	switch d.Outcome {
	case policy.OutcomePreflightDeniedOrigin, policy.OutcomeActualDenied:
		return originCulprit(r, ru, rule)
	case policy.OutcomePreflightDeniedMethod:
		if len(r.ACRM) != 1 {
			return fmt.Sprintf("the preflight carries %d Access-Control-Request-Method headers; a browser sends one", len(r.ACRM))
		}
		m := r.ACRM[0]
		s := fmt.Sprintf("method %s is not allowed: %s allows %s", strconv.Quote(m), rule, methodsText(ru.Methods))
		if up := strings.ToUpper(m); up != m && slices.Contains(ru.Methods, up) {
			s += fmt.Sprintf(" (methods are case-sensitive: %s is listed, %s is not)", strconv.Quote(up), strconv.Quote(m))
		}
		return s
	case policy.OutcomePreflightDeniedHeaders:
		return headersCulprit(p, r, ru, rule)
	case policy.OutcomePreflightDeniedPrivateNetwork:
		return "the preflight asks for private network access (Access-Control-Request-Private-Network: true), and " + rule + " does not set allow_private_network"
	}
	return ""
}

func originCulprit(r *policy.Request, ru effectiveRule, rule string) string {
	switch {
	case len(r.Origin) > 1:
		return fmt.Sprintf("the request carries %d Origin headers; a browser sends one", len(r.Origin))
	case len(r.Origin) == 1 && len(r.Origin[0]) > maxOriginLength:
		return fmt.Sprintf("the Origin header is %d bytes, longer than any origin (%d bytes at most)", len(r.Origin[0]), maxOriginLength)
	case len(r.Origin) == 0:
		return ""
	}
	origin := r.Origin[0]
	if len(ru.Origins) == 0 && len(ru.OriginRegexes) == 0 {
		return fmt.Sprintf("origin %s is not allowed: %s allows no origin (its allowed_origins is empty)", strconv.Quote(origin), rule)
	}
	var allows []string
	if len(ru.Origins) > 0 {
		allows = append(allows, listText(ru.Origins, 5))
	}
	if len(ru.OriginRegexes) > 0 {
		allows = append(allows, "origins matching "+listText(ru.OriginRegexes, 3))
	}
	s := fmt.Sprintf("origin %s is not allowed: %s allows %s", strconv.Quote(origin), rule, strings.Join(allows, ", and "))
	// A hand-written origin often has what no browser sends.
	if fixed := strings.ToLower(strings.TrimSuffix(origin, "/")); fixed != origin && slices.Contains(ru.Origins, fixed) {
		s += fmt.Sprintf(" (a browser would send %s)", strconv.Quote(fixed))
	}
	return s
}

// maxOriginLength is the longest serialized origin, beyond which the policy
// reads an Origin header as malformed (docs/spec.md §3, docs/guide/limitations.md).
const maxOriginLength = 328

// Limits on Access-Control-Request-Headers (docs/guide/limitations.md).
const (
	maxACRHBytes  = 4096
	maxACRHNames  = 256
	maxHeaderName = 256
)

func headersCulprit(p *policy.Policy, r *policy.Request, ru effectiveRule, rule string) string {
	var names []string
	total := 0
	for _, v := range r.ACRH {
		total += len(v)
		for n := range strings.SplitSeq(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	switch {
	case total > maxACRHBytes:
		return fmt.Sprintf("Access-Control-Request-Headers is %d bytes, beyond the %d bytes the filter reads", total, maxACRHBytes)
	case len(names) > maxACRHNames:
		return fmt.Sprintf("Access-Control-Request-Headers lists %d names, beyond the %d the filter reads", len(names), maxACRHNames)
	}
	// Decide again with each requested header alone: the policy's own
	// answer, "*" and Authorization included.
	var denied []string
	for _, n := range names {
		if len(n) > maxHeaderName {
			return fmt.Sprintf("a requested header name is %d bytes, beyond %d", len(n), maxHeaderName)
		}
		one := *r
		one.ACRH = []string{n}
		if d := p.Decide(&one); d.Outcome == policy.OutcomePreflightDeniedHeaders {
			denied = append(denied, strconv.Quote(strings.ToLower(n)))
		}
	}
	if len(denied) == 0 {
		return "Access-Control-Request-Headers is malformed: want header names separated by commas"
	}
	what := "header " + denied[0] + " is"
	if len(denied) > 1 {
		what = "headers " + strings.Join(denied, ", ") + " are"
	}
	allows := "no request header beyond the CORS-safelisted ones (allowed_request_headers is not set)"
	switch {
	case slices.Contains(ru.Headers, "*"):
		allows = "any header but authorization, which \"*\" never covers: list it by name"
	case ru.Headers != nil && len(ru.Headers) == 0:
		allows = "no request header beyond the CORS-safelisted ones (its allowed_request_headers is empty)"
	case len(ru.Headers) > 0:
		allows = listText(ru.Headers, 10)
	}
	return what + " not allowed: " + rule + " allows " + allows
}

// methodsText describes the methods a rule allows.
func methodsText(methods []string) string {
	switch {
	case slices.Contains(methods, "*"):
		return "any method but CONNECT, TRACE and TRACK"
	case len(methods) == 0:
		return "GET, HEAD and POST only"
	}
	return strings.Join(methods, ", ") + ", besides GET, HEAD and POST"
}

// listText lists up to n values, then says how many more there are.
func listText(values []string, n int) string {
	if len(values) <= n {
		return strings.Join(values, ", ")
	}
	return strings.Join(values[:n], ", ") + fmt.Sprintf(" and %d more", len(values)-n)
}
