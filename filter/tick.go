package main

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

	"github.com/corsfilter/corsfilter/internal/topk"
	"github.com/corsfilter/corsfilter/policy"
)

// This file holds the plugin's periodic work, on the proxy's tick: the
// origin sources (sources.go) and the denied-origins report; and what a
// stream leaves for it: the denials the report counts, and the
// divergences of candidate policies.

// tickMS is the tick period when origin sources are configured: their
// refresh and timeouts are counted in ticks of it.
const tickMS = 1000

// nowMS returns the wall clock in milliseconds: the proxy's clock
// (clock_time_get), which every VM of the plugin shares.
var nowMS = func() int64 { return time.Now().UnixMilli() }

// dynamic is the state of a plugin context that changes with time.
type dynamic struct {
	vmID    uint64 // this VM, for the fetch lease
	sources []*originSource

	reportEveryMS int64
	reportDueMS   int64
	reportTop     int
	denied        []*topk.Sketch // per rule; nil without a report
	items         []topk.Item    // reused by report

	candidates []metric // [rule*2+divergence-1], defined for rules with a candidate
	diverged   []uint64 // divergences seen, same index, for sampling the debug log
}

// sketchSlots is the number of slots of a rule's sketch per origin
// reported: any origin denied more than 1/(sketchSlots*top) of the
// rule's denials is in the sketch, its count within that bound.
const sketchSlots = 4

// divergenceLogEvery samples the divergence debug log: the first of each
// rule and direction, then one in divergenceLogEvery.
const divergenceLogEvery = 100

// startDynamic sets up the origin sources, the report and the candidate
// metrics of a new policy, installs the sets other VMs already fetched,
// and asks for ticks when there is periodic work.
func (p *pluginContext) startDynamic(pol *policy.Policy, rules []string) error {
	p.vmID = rand.Uint64() | 1
	srcs, err := newSources(pol, defineCounter, defineGauge)
	if err != nil {
		return err
	}
	p.sources = srcs
	p.candidates = make([]metric, 2*len(rules))
	p.diverged = make([]uint64, 2*len(rules))
	for i, rule := range rules {
		if has, _ := pol.HasCandidate(i); has {
			for k, v := range []policy.Divergence{policy.CandidateWouldDeny, policy.CandidateWouldAllow} {
				if p.candidates[2*i+k], err = defineCounter("cors." + rule + "." + v.String()); err != nil {
					return err
				}
			}
		}
	}
	seconds, top := pol.ReportInterval()
	if seconds > 0 {
		p.reportEveryMS, p.reportTop = int64(seconds)*1000, top
		p.reportDueMS = nowMS() + p.reportEveryMS
		p.denied = make([]*topk.Sketch, len(rules))
		for i := range p.denied {
			p.denied[i] = topk.New(sketchSlots * top)
		}
		p.items = make([]topk.Item, 0, sketchSlots*top)
	}
	period := uint32(0)
	switch {
	case len(p.sources) > 0:
		period = tickMS
	case seconds > 0:
		period = uint32(seconds) * 1000
	}
	if period == 0 {
		return nil
	}
	now := nowMS()
	for _, s := range p.sources {
		if meta, ok := s.meta(); ok {
			s.load(p) // a set fetched before this configuration: no deny window
			s.record(p, meta, now)
		}
	}
	return proxywasm.SetTickPeriodMilliSeconds(period)
}

// OnTick implements types.PluginContext.
func (p *pluginContext) OnTick() {
	defer func() {
		if r := recover(); r != nil {
			p.fault("tick", r)
		}
	}()
	if p.policy == nil {
		return
	}
	now := nowMS()
	for _, s := range p.sources {
		s.sync(p, now)
	}
	if p.denied != nil && now >= p.reportDueMS {
		p.report()
		p.reportDueMS = now + p.reportEveryMS
	}
}

// report logs, for each rule that denied requests since the last report,
// how many and from which origins most, then starts counting again.
func (p *pluginContext) report() {
	names := p.policy.RuleNames()
	for i, sk := range p.denied {
		if sk.Total() == 0 {
			continue
		}
		p.items = sk.Top(p.items[:0], p.reportTop)
		line := "cors: rule " + policy.Quote(names[i]) + " denied " + strconv.FormatUint(sk.Total(), 10) +
			" requests in the last " + strconv.FormatInt(p.reportEveryMS/1000, 10) + " s; top origins:"
		for k, it := range p.items {
			if k > 0 {
				line += ","
			}
			line += " " + policy.QuoteTruncated(it.Key, maxLoggedValue)
			if it.Cut {
				line += "…" // the sketch keeps the first bytes of longer origins
			}
			line += " " + strconv.FormatUint(it.Count, 10)
			if it.Err > 0 {
				line += " (at least " + strconv.FormatUint(it.Count-it.Err, 10) + ")"
			}
		}
		proxywasm.LogInfo(line)
		sk.Reset()
	}
}

// observe records what a stream's decision leaves for later: a denial for
// the report, a candidate's divergence in its counters and, sampled, the
// debug log. It allocates nothing.
func (p *pluginContext) observe(r *policy.Request, d *policy.Decision) {
	// The check inlines into the stream path: an allowed request with no
	// divergence, the usual one, leaves nothing to record.
	if d.Outcome.Denied() || d.Divergence != policy.NoDivergence {
		p.noteDecision(r, d)
	}
}

func (p *pluginContext) noteDecision(r *policy.Request, d *policy.Decision) {
	i := d.RuleIndex
	if i < 0 || i >= len(p.diverged)/2 {
		return
	}
	origin := ""
	if len(r.Origin) > 0 {
		origin = r.Origin[0]
	}
	if p.denied != nil && d.Outcome.Denied() {
		p.denied[i].Add(origin)
	}
	if d.Divergence == policy.NoDivergence {
		return
	}
	k := 2*i + int(d.Divergence) - 1
	p.increment(p.candidates[k])
	if p.diverged[k]++; p.diverged[k]%divergenceLogEvery == 1 {
		logDebug(divergenceLine(origin, d, p.diverged[k]))
	}
}

// divergenceLine writes the debug line of a divergence into scratch.buf,
// the origin cut to maxLoggedValue bytes.
func divergenceLine(origin string, d *policy.Decision, n uint64) []byte {
	b := append(scratch.buf[:0], "cors: rule "...)
	b = append(b, d.Rule...)
	b = append(b, ": "...)
	b = append(b, d.Divergence.String()...)
	b = append(b, " on "...)
	b = append(b, d.Kind.String()...)
	b = append(b, " from origin "...)
	b = policy.AppendQuoteTruncated(b, origin, maxLoggedValue)
	if d.CandidateEnforced {
		b = append(b, " (the candidate decided: "...)
	} else {
		b = append(b, " (the rule decided: "...)
	}
	b = append(b, d.Outcome.String()...)
	b = append(b, "; divergence "...)
	b = strconv.AppendUint(b, n, 10)
	b = append(b, ", one in "...)
	b = strconv.AppendInt(b, divergenceLogEvery, 10)
	b = append(b, " logged)"...)
	scratch.buf = b
	return b
}

// record sets a gauge, counting a refusal as a fault.
func (p *pluginContext) record(g gauge, v uint64) {
	if err := g.record(v); err != nil {
		p.fault("recording a gauge", err)
	}
}

// add adds n to a counter, counting a refusal as a fault.
func (p *pluginContext) add(c metric, n int) {
	if err := c.add(int64(n)); err != nil {
		p.fault("incrementing a metric", err)
	}
}
