package main

import (
	"errors"
	"fmt"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	_ "github.com/corsfilter/corsfilter/filter/internal/abi"
	"github.com/corsfilter/corsfilter/policy"
)

func main() {}

func init() { proxywasm.SetVMContext(&vmContext{}) }

type vmContext struct {
	types.DefaultVMContext
}

// NewPluginContext implements types.VMContext.
func (*vmContext) NewPluginContext(uint32) types.PluginContext { return &pluginContext{} }

// pluginContext holds the compiled policy and the counters of one plugin
// configuration.
type pluginContext struct {
	types.DefaultPluginContext
	policy  *policy.Policy
	metrics metrics
}

// metrics are the plugin's counters. Cardinality is bounded by the rules and
// the outcome vocabulary, never by request values such as the origin.
type metrics struct {
	outcomes    []proxywasm.MetricCounter // [rule*len(outcomes)+outcome]
	divergences []proxywasm.MetricCounter // report_only_divergence, per rule
	overridden  []proxywasm.MetricCounter // upstream_cors_overridden, per rule
	unmatched   proxywasm.MetricCounter
	fault       proxywasm.MetricCounter
}

var numOutcomes = len(policy.Outcomes())

// OnPluginStart implements types.PluginContext. It compiles the plugin
// configuration; an invalid one fails the start, so Envoy rejects it.
func (p *pluginContext) OnPluginStart(int) (status types.OnPluginStartStatus) {
	defer func() {
		if r := recover(); r != nil {
			proxywasm.LogCriticalf("cors: plugin start failed: %v", r)
			status = types.OnPluginStartStatusFailed
		}
	}()
	config, err := proxywasm.GetPluginConfiguration()
	if errors.Is(err, types.ErrorStatusNotFound) || err == nil && len(config) == 0 {
		proxywasm.LogCritical("cors: plugin configuration is required")
		return types.OnPluginStartStatusFailed
	}
	if err != nil {
		proxywasm.LogCriticalf("cors: cannot read plugin configuration: %v", err)
		return types.OnPluginStartStatusFailed
	}
	pol, err := policy.Parse(config)
	if err != nil {
		logConfigErrors(err)
		return types.OnPluginStartStatusFailed
	}
	p.metrics = defineMetrics(pol.RuleNames())
	p.policy = pol
	proxywasm.LogInfof("cors: plugin started with policy %s", pol.String())
	for _, w := range pol.Warnings() {
		proxywasm.LogWarn(w)
	}
	return types.OnPluginStartStatusOK
}

// logConfigErrors logs every configuration error on its own line.
func logConfigErrors(err error) {
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	proxywasm.LogCriticalf("cors: invalid plugin configuration: %d error(s)", len(errs))
	for _, e := range errs {
		proxywasm.LogCritical(e.Error())
	}
}

// defineMetrics defines the counters for the rules. Outcome counters are
// defined per rule for every outcome but "unmatched", which has no rule.
func defineMetrics(rules []string) metrics {
	m := metrics{
		outcomes:    make([]proxywasm.MetricCounter, len(rules)*numOutcomes),
		divergences: make([]proxywasm.MetricCounter, len(rules)),
		overridden:  make([]proxywasm.MetricCounter, len(rules)),
		unmatched:   proxywasm.DefineCounterMetric("cors.unmatched"),
		fault:       proxywasm.DefineCounterMetric("cors.internal_fault"),
	}
	for i, rule := range rules {
		for _, o := range policy.Outcomes() {
			if o != policy.OutcomeUnmatched {
				m.outcomes[i*numOutcomes+int(o)] = proxywasm.DefineCounterMetric("cors." + rule + "." + o.String())
			}
		}
		m.divergences[i] = proxywasm.DefineCounterMetric("cors." + rule + ".report_only_divergence")
		m.overridden[i] = proxywasm.DefineCounterMetric("cors." + rule + ".upstream_cors_overridden")
	}
	return m
}

// count records the decision's outcome, and a divergence when report_only
// would have denied the request.
func (p *pluginContext) count(d *policy.Decision) {
	if d.Outcome == policy.OutcomeUnmatched {
		p.metrics.unmatched.Increment(1)
		return
	}
	if d.RuleIndex < 0 || d.RuleIndex >= len(p.metrics.divergences) || int(d.Outcome) >= numOutcomes {
		p.fault("decision out of range", fmt.Sprintf("rule %d, outcome %d", d.RuleIndex, d.Outcome))
		return
	}
	p.metrics.outcomes[d.RuleIndex*numOutcomes+int(d.Outcome)].Increment(1)
	if d.ReportOnly && d.Outcome.Denied() {
		p.metrics.divergences[d.RuleIndex].Increment(1)
	}
}

// fault counts and logs a failed host call or an unexpected condition. It
// never panics: it runs inside recover handlers.
func (p *pluginContext) fault(what string, cause any) {
	func() {
		defer func() { _ = recover() }() // a failing counter must not crash the VM
		p.metrics.fault.Increment(1)
	}()
	proxywasm.LogWarnf("cors: internal fault: %s: %v", what, cause)
}

// guard is deferred at every per-stream callback boundary: a panic is
// counted and logged, and the stream continues unchanged.
func (p *pluginContext) guard(callback string, action *types.Action) {
	if r := recover(); r != nil {
		p.fault(callback, r)
		*action = types.ActionContinue
	}
}

// NewHttpContext implements types.PluginContext.
func (p *pluginContext) NewHttpContext(uint32) types.HttpContext {
	return &httpContext{plugin: p}
}
