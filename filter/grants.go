package main

import (
	"errors"
	"time"

	"github.com/corsfilter/corsfilter/policy"
)

// Grants (docs/grants.md): the clock a grant is checked against, a counter
// per rule and grant outcome, and the stripping of the grant's query
// parameter before the request goes upstream.

// grantState is a plugin's grant machinery, zero when no rule takes grants.
type grantState struct {
	on       bool
	counters []metric           // [rule*numGrantOutcomes+outcome]; defined for rules with grants
	path     []byte             // the stripped :path, preallocated
	cache    *policy.GrantCache // the VM's verified tokens and verification budget
}

const numGrantOutcomes = int(policy.GrantBusy) + 1

// grantPathCap is the stripped path's preallocated storage: Envoy's default
// limit on request headers is 60 KiB, but paths are short; a longer one
// grows it once.
const grantPathCap = 2048

// defineGrantMetrics defines cors.<rule>.grant_<outcome> for every rule
// that takes grants.
func defineGrantMetrics(pol *policy.Policy, define func(name string) (metric, error)) (grantState, error) {
	if !pol.UsesGrants() {
		return grantState{}, nil
	}
	names := pol.RuleNames()
	g := grantState{on: true, counters: make([]metric, len(names)*numGrantOutcomes), path: make([]byte, 0, grantPathCap),
		cache: pol.NewGrantCache()}
	var errs []error
	for i, rule := range names {
		if !pol.HasGrants(i) {
			continue
		}
		for _, o := range policy.GrantOutcomes() {
			defineInto(&g.counters[i*numGrantOutcomes+int(o)], "cors."+rule+".grant_"+o.String(), define, &errs)
		}
	}
	return g, errors.Join(errs...)
}

// grantClock gives r what checking grants needs, when a rule takes them:
// the time (in the plugin, time.Now is WASI's clock_time_get) and the
// plugin's verification cache and budget. A plugin context serves one VM,
// and a VM runs one callback at a time.
func (p *pluginContext) grantClock(r *policy.Request) {
	// The check inlines into the stream path; the rest is a call only for
	// a plugin whose rules take grants.
	if p.grant.on {
		p.setGrantClock(r)
	}
}

func (p *pluginContext) setGrantClock(r *policy.Request) {
	r.Now, r.Grants = time.Now().Unix(), p.grant.cache
}

// afterDecide counts the grant's outcome and strips its parameter from
// :path when the rule says so. It allocates nothing once the path buffer
// has grown to the longest path seen.
func (p *pluginContext) afterDecide(r *policy.Request, d *policy.Decision) {
	// The check inlines into the stream path; the rest is a call only for
	// a plugin whose rules take grants.
	if p.grant.on && d.RuleIndex >= 0 {
		p.grantEffects(r, d)
	}
}

func (p *pluginContext) grantEffects(r *policy.Request, d *policy.Decision) {
	if d.Grant != policy.GrantNone {
		if i := d.RuleIndex*numGrantOutcomes + int(d.Grant); i < len(p.grant.counters) {
			p.increment(p.grant.counters[i])
		}
	}
	if d.Enforced() && d.Action == policy.Respond {
		return // answered locally: nothing goes upstream
	}
	path, ok := p.policy.StripGrant(d, r.Path, p.grant.path[:0])
	if !ok {
		return
	}
	if cap(path) > cap(p.grant.path) {
		p.grant.path = path[:0]
	}
	if err := replaceRequestPath(path); err != nil {
		p.fault("stripping the grant from :path", err)
	}
}
