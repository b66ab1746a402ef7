package policy

import (
	"github.com/tidwall/gjson"

	"github.com/corsfilter/corsfilter/internal/fnv1a"
)

// This file holds candidate policies: a rule's candidate object of policy
// fields, which override the rule's own as a rule's override the top
// level's. Every request the rule governs is decided by both; the one in
// force is the rule's, or the candidate's for candidate_rollout_percent of
// the origins, chosen by a stable hash of the origin. Where the two
// disagree on denying, the decision says so (Decision.Divergence).

const (
	keyCandidate = "candidate"
	keyRollout   = "candidate_rollout_percent"
)

// Divergence says how a rule's candidate would have decided a request
// differently from the rule, whichever of the two was in force.
type Divergence uint8

const (
	// NoDivergence: no candidate, or both deny, or neither does.
	NoDivergence Divergence = iota
	// CandidateWouldDeny: the rule allows (or does not deny) what the
	// candidate denies.
	CandidateWouldDeny
	// CandidateWouldAllow: the rule denies what the candidate allows.
	CandidateWouldAllow
)

// String returns the divergence as metrics and logs name it.
func (v Divergence) String() string {
	switch v {
	case CandidateWouldDeny:
		return "candidate_would_deny"
	case CandidateWouldAllow:
		return "candidate_would_allow"
	}
	return "none"
}

// candidate is a rule's compiled candidate and its rollout.
type candidate struct {
	rule    rule
	percent int // 0..100: the share of origins for which the candidate is in force
}

// candidateKeys are the keys of a candidate object: every policy field but
// mode, which stays the rule's (the rollout says which policy is in force),
// and grants, which the plugin sets up per rule (a clock, a verification
// cache and budget, counters, the parameter it strips): grants staged in a
// candidate alone got none of these, and a candidate's other parameter was
// left in :path. A rule's grants apply under its candidate too.
var candidateKeys = func() []string {
	var keys []string
	for _, k := range policyKeys {
		if k != keyMode && k != keyGrants {
			keys = append(keys, k)
		}
	}
	return keys
}()

func (d *decoder) candidateFields(v gjson.Result, path string) *fields {
	f := &fields{path: path}
	if !d.object(v, path, candidateKeys, func(key string, v gjson.Result, p string) {
		d.policyField(f, key, v, p)
	}) {
		return nil
	}
	return f
}

// overlay returns the fields of a rule's candidate: the rule's own, each
// replaced by the candidate's when it sets it. The origin lists and sets
// form one group, as in inheritance: a candidate setting any replaces all.
func overlay(own, cand *fields) *fields {
	m := *own
	m.path = cand.path
	if cand.origins != nil || cand.regexes != nil || cand.sets != nil {
		m.origins, m.regexes, m.sets = cand.origins, cand.regexes, cand.sets
	}
	m.methods = pick(cand.methods, own.methods)
	m.headers = pick(cand.headers, own.headers)
	m.expose = pick(cand.expose, own.expose)
	m.credentials = pick(cand.credentials, own.credentials)
	m.maxAge = pick(cand.maxAge, own.maxAge)
	m.privateNetwork = pick(cand.privateNetwork, own.privateNetwork)
	m.preflightStatus = pick(cand.preflightStatus, own.preflightStatus)
	m.reject = pick(cand.reject, own.reject)
	m.forwardDenied = pick(cand.forwardDenied, own.forwardDenied)
	m.debug = pick(cand.debug, own.debug)
	m.allowNull = pick(cand.allowNull, own.allowNull)
	m.allowInsecure = pick(cand.allowInsecure, own.allowInsecure)
	m.allowPNAAny = pick(cand.allowPNAAny, own.allowPNAAny)
	m.grants = pick(cand.grants, own.grants)
	return &m
}

// compileCandidate compiles a rule's candidate. Problems of the values the
// candidate inherits from the rule were reported with the rule: only new
// ones are kept.
func (d *decoder) compileCandidate(top, own, cand *fields, name string, percent int) *candidate {
	before := len(d.errs)
	r := d.compileRule(top, overlay(own, cand), name)
	key := func(err error) string { e := err.(*Error); return e.Path + "\x00" + string(e.Problem) }
	seen := map[string]bool{}
	for _, e := range d.errs[:before] {
		seen[key(e)] = true
	}
	kept := d.errs[:before]
	for _, e := range d.errs[before:] {
		if !seen[key(e)] {
			kept = append(kept, e)
		}
	}
	d.errs = kept
	return &candidate{rule: r, percent: percent}
}

// rolloutBuckets is the resolution of a rollout: a percentage is a share
// of 10,000 buckets.
const rolloutBuckets = 10_000

// RolloutBucket returns the bucket of an Origin value, 0 to 9,999: a
// stable hash (FNV-1a, then a 64-bit finalizer), so that one origin always
// falls in one bucket, on every worker and across restarts. The candidate
// of a rule with candidate_rollout_percent p is in force for the origins
// whose bucket is below p*100.
func RolloutBucket(origin string) int {
	h := fnv1a.String(origin)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return int(h % rolloutBuckets)
}

// decideWithCandidate decides r by the rule and by its candidate, puts the
// decision of the one in force in d, and records how they diverge.
// Precondition: ru.cand != nil, and d holds the rule's Kind and name.
func (ru *rule) decideWithCandidate(r *Request, d *Decision) {
	c := ru.cand
	origin := ""
	if len(r.Origin) == 1 {
		origin = r.Origin[0]
	}
	shadow := Decision{Kind: d.Kind, Rule: d.Rule, RuleIndex: d.RuleIndex}
	var ruleD, candD *Decision
	if c.percent > 0 && RolloutBucket(origin) < c.percent*(rolloutBuckets/100) {
		c.rule.apply(r, d)
		ru.apply(r, &shadow)
		d.CandidateEnforced = true
		ruleD, candD = &shadow, d
	} else {
		ru.apply(r, d)
		c.rule.apply(r, &shadow)
		ruleD, candD = d, &shadow
	}
	switch rd, cd := ruleD.Outcome.Denied(), candD.Outcome.Denied(); {
	case cd && !rd:
		d.Divergence = CandidateWouldDeny
	case rd && !cd:
		d.Divergence = CandidateWouldAllow
	}
}

// HasCandidate reports whether rule i has a candidate, and its rollout
// percentage.
func (p *Policy) HasCandidate(i int) (has bool, percent int) {
	if i < 0 || i >= len(p.rules) || p.rules[i].cand == nil {
		return false, 0
	}
	return true, p.rules[i].cand.percent
}
