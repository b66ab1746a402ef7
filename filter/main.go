package main

import (
	"errors"
	"runtime"
	"slices"
	"strconv"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/corsfilter/corsfilter/filter/internal/abi"
	"github.com/corsfilter/corsfilter/policy"
)

func main() {}

func init() { proxywasm.SetVMContext(&vmContext{}) }

type vmContext struct {
	types.DefaultVMContext
}

// NewPluginContext implements types.VMContext. A VM holds one plugin
// context per configuration: on an update Envoy creates a new one beside the
// old, which serves its streams in flight until it is retired
// (OnPluginDone).
func (*vmContext) NewPluginContext(id uint32) types.PluginContext {
	p := &pluginContext{id: id}
	registerPlugin(id, p)
	return p
}

// pluginContext holds the compiled policy and the counters of one plugin
// configuration.
type pluginContext struct {
	types.DefaultPluginContext
	id      uint32 // the root context ID
	policy  *policy.Policy
	routes  bool // some rule matches on xds.route_name
	metrics metrics
	grant   grantState // grants.go
	dynamic
}

// metrics are the plugin's counters. Cardinality is bounded by the rules and
// the outcome vocabulary, never by request values such as the origin.
type metrics struct {
	outcomes    []metric // [rule*len(outcomes)+outcome]
	divergences []metric // report_only_divergence, per rule
	overridden  []metric // upstream_cors_overridden, per rule
	unmatched   metric
	fault       metric
}

var numOutcomes = len(policy.Outcomes())

// OnPluginStart implements types.PluginContext. It compiles the plugin
// configuration; an invalid one fails the start, so Envoy rejects it.
func (p *pluginContext) OnPluginStart(int) (status types.OnPluginStartStatus) {
	defer func() {
		if r := recover(); r != nil {
			proxywasm.LogCritical("cors: plugin start failed: " + describe(r))
			status = types.OnPluginStartStatusFailed
		}
	}()
	config, err := proxywasm.GetPluginConfiguration()
	if errors.Is(err, types.ErrorStatusNotFound) || err == nil && len(config) == 0 {
		proxywasm.LogCritical("cors: plugin configuration is required")
		return types.OnPluginStartStatusFailed
	}
	if err != nil {
		proxywasm.LogCritical("cors: cannot read plugin configuration: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	pol, err := policy.Parse(config)
	if err != nil {
		logConfigErrors(err)
		return types.OnPluginStartStatusFailed
	}
	m, err := defineMetrics(pol.RuleNames(), defineCounter)
	if err != nil {
		proxywasm.LogCritical("cors: cannot define metrics: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	p.metrics = m
	if p.grant, err = defineGrantMetrics(pol, defineCounter); err != nil {
		proxywasm.LogCritical("cors: cannot define metrics: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	p.policy, p.routes = pol, pol.UsesRouteNames()
	if err := p.startDynamic(pol, pol.RuleNames()); err != nil {
		p.policy = nil
		proxywasm.LogCritical("cors: cannot start the origin sources, the report or the candidate metrics: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	proxywasm.LogInfo(startLine() + " with policy " + pol.String())
	if l := pol.StartLog(); l != "" {
		proxywasm.LogInfo(l)
	}
	for _, w := range pol.Warnings() {
		proxywasm.LogWarn(w)
	}
	return types.OnPluginStartStatusOK
}

// OnPluginDone implements types.PluginContext. Envoy calls it when it
// retires the context: a newer configuration serves new streams, and the
// streams started under this one have ended. New streams can no longer
// name it, so it leaves the table they are created from, and its policy
// can be collected.
func (p *pluginContext) OnPluginDone() bool {
	unregisterPlugin(p.id)
	return true
}

// startLine says what started, for the operator matching a log with a
// build and a proxy: the proxy-wasm ABI version the module declares (what
// Envoy binds it with), the Go toolchain that built it (its runtime decides
// which WASI calls the module makes, see docs/compatibility.md), and the
// Public Suffix List revision compiled in.
func startLine() string {
	return "cors: plugin started (proxy-wasm ABI " + abi.Version + ", built with " + runtime.Version() +
		", public suffix list " + policy.PublicSuffixList() + ")"
}

// logConfigErrors logs every configuration error on its own line.
func logConfigErrors(err error) {
	errs := slices.Collect(policy.Errors(err))
	proxywasm.LogCritical("cors: invalid plugin configuration: " + strconv.Itoa(len(errs)) + " error(s)")
	for _, e := range errs {
		proxywasm.LogCritical(e.Error())
	}
}

// defineMetrics defines the counters for the rules with define. Outcome
// counters are defined per rule for every outcome but "unmatched", which has
// no rule. A refused definition fails the plugin start: better than running
// blind.
func defineMetrics(rules []string, define func(name string) (metric, error)) (metrics, error) {
	m := metrics{
		outcomes:    make([]metric, len(rules)*numOutcomes),
		divergences: make([]metric, len(rules)),
		overridden:  make([]metric, len(rules)),
	}
	var errs []error
	defineInto(&m.unmatched, "cors.unmatched", define, &errs)
	defineInto(&m.fault, "cors.internal_fault", define, &errs)
	for i, rule := range rules {
		for _, o := range policy.Outcomes() {
			if o != policy.OutcomeUnmatched {
				defineInto(&m.outcomes[i*numOutcomes+int(o)], "cors."+rule+"."+o.String(), define, &errs)
			}
		}
		defineInto(&m.divergences[i], "cors."+rule+".report_only_divergence", define, &errs)
		defineInto(&m.overridden[i], "cors."+rule+".upstream_cors_overridden", define, &errs)
	}
	return m, errors.Join(errs...)
}

// defineInto defines the metric name into *m, and records a failure in
// errs. Out of line: start-up code, called in many places, each inlined
// copy of which cost cors.wasm code.
//
//go:noinline
func defineInto[M any](m *M, name string, define func(string) (M, error), errs *[]error) {
	var err error
	if *m, err = define(name); err != nil {
		*errs = append(*errs, errors.New(name+": "+err.Error()))
	}
}

// count records the decision's outcome, and a divergence when report_only
// would have denied the request.
func (p *pluginContext) count(d *policy.Decision) {
	if d.Outcome == policy.OutcomeUnmatched {
		p.increment(p.metrics.unmatched)
		return
	}
	if d.RuleIndex < 0 || d.RuleIndex >= len(p.metrics.divergences) || int(d.Outcome) >= numOutcomes {
		p.fault("decision out of range", "rule "+strconv.Itoa(d.RuleIndex)+", outcome "+d.Outcome.String())
		return
	}
	p.increment(p.metrics.outcomes[d.RuleIndex*numOutcomes+int(d.Outcome)])
	if d.ReportOnly && d.Outcome.Denied() {
		p.increment(p.metrics.divergences[d.RuleIndex])
	}
}

// fault counts and logs a failed host call or an unexpected condition. It
// never panics: it runs inside recover handlers.
func (p *pluginContext) fault(what string, cause any) {
	_ = p.metrics.fault.increment() // nothing more to do if counting fails too
	proxywasm.LogWarn("cors: internal fault: " + what + ": " + describe(cause))
}

// increment adds one to a metric, counting a refusal as a fault.
func (p *pluginContext) increment(c metric) {
	if err := c.increment(); err != nil {
		p.fault("incrementing a metric", err)
	}
}

// describe renders a recovered panic value or an error without fmt, which
// the plugin does not link (it would add 0.2 MB to cors.wasm).
func describe(v any) string {
	switch v := v.(type) {
	case error:
		return v.Error()
	case string:
		return v
	default:
		return "unexpected value"
	}
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
	return &httpContext{s: stream{plugin: p}}
}
