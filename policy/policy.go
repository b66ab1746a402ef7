package policy

import (
	"github.com/corsfilter/corsfilter/policy/internal/ascii"
	"strings"
	"unicode/utf8"

	"github.com/corsfilter/corsfilter/policy/internal/origins"
	"github.com/corsfilter/corsfilter/policy/internal/psl"
	"github.com/corsfilter/corsfilter/policy/internal/regex"
	"github.com/corsfilter/corsfilter/policy/internal/sites"
	"github.com/tidwall/gjson"
)

// Policy is a compiled CORS policy: an ordered list of rules. It is
// immutable after Parse, so one Policy may serve any number of concurrent
// Decide calls without locks.
type Policy struct {
	rules    []rule
	names    []string
	warnings []string
	meta     metadata // version and description, for reviewers (describe.go)

	sources       []OriginSource
	dyn           []*dynSet // the current set of each source, by index
	reportSeconds int       // report_interval_seconds; 0: no report
	reportTop     int       // report_top_origins
	grantBudget   int       // grants' max_verifications_per_second, for the VM
}

// rule is one compiled rule with every field resolved (its own, else the
// top level's, else the default) and its response header values
// precomputed.
type rule struct {
	name  string
	match *match
	mode  mode
	meta  ruleMetadata // description and internal, for reviewers (describe.go)

	origins *origins.Set // nil when only regexes are listed
	regexes []*regex.DFA // automata of anchored regexes over origins; matched against valid origins only
	// sets are the origin sets of allowed_origin_sets, as last fetched;
	// secureSets: only their https origins count (credentials).
	sets       []*dynSet
	secureSets bool
	cand       *candidate // nil without a candidate

	credentials bool
	// staticAny: any origin without credentials, answered with a literal
	// "*", which does not depend on the request. Invariant:
	// staticAny => !credentials.
	staticAny bool

	anyMethod bool
	methods   nameSet // never holds GET, HEAD or POST

	anyHeader bool    // Invariant: anyHeader never implies "authorization"
	headers   nameSet // lower case

	aceh            string // "" for none
	acma            string // "" when max_age_seconds is absent
	privateNetwork  bool
	preflightStatus int
	reject          bool
	forwardDenied   bool
	debug           bool
	grants          *grants // nil when the rule takes no grants

	varyActual    string // on actual, denied and non-CORS responses
	varyPreflight string // on preflight responses, allowed or denied

	eff effective // the normalized effective configuration, for String
}

// effective is a rule's normalized effective configuration. Lists are
// shared with the level they were inherited from, never copied, so that
// 1,000 rules inheriting 10,000 origins cost nothing extra.
type effective struct {
	_                                     noCompare // see noCompare
	origins                               *originList
	regexes                               *regexList
	sets                                  *setList
	methods, headers, expose              *tokenSet
	maxAge                                int // -1 when absent
	allowNull, allowInsecure, allowPNAAny bool
}

// Parse decodes, validates and compiles a plugin configuration
// (docs/spec.md §2). It either returns a usable Policy or refuses the whole configuration
// with every problem found, joined with errors.Join; each is an *Error whose
// message reads "cors: <json path>: <problem>".
func Parse(config []byte) (*Policy, error) {
	if len(config) > maxConfigSize {
		return nil, &Error{Problem: ProblemInvalidJSON, Msg: "the configuration is larger than " + itoa(maxConfigSize>>20) + " MiB"}
	}
	if ascii.TrimSpace(string(config)) == "" {
		return nil, &Error{Problem: ProblemMissing, Msg: "the configuration is empty: at least allowed_origins is required"}
	}
	if !utf8.Valid(config) {
		return nil, &Error{Problem: ProblemInvalidJSON, Msg: "the configuration is not valid UTF-8"}
	}
	if tooDeep(config) {
		return nil, &Error{Problem: ProblemInvalidJSON, Msg: "the configuration nests arrays and objects deeper than " + itoa(maxDepth) + " levels"}
	}
	if !gjson.ValidBytes(config) {
		return nil, &Error{Problem: ProblemInvalidJSON, Msg: "the configuration is not valid JSON"}
	}
	d := &decoder{proofs: sites.Budget{States: maxProofStates}, dfaWork: maxDFAWork}
	top := &fields{}
	var rulesV gjson.Result
	hasRules := false
	p := &Policy{reportSeconds: defaultReportSeconds, reportTop: defaultReportTop}
	var meta metadata
	var topCand *fields
	topPercent, hasPercent := 0, false
	known := append(append(policyKeys[:len(policyKeys):len(policyKeys)], "rules", keySources, keyReportInterval, keyReportTop, keyCandidate, keyRollout), metadataKeys...)
	ok := d.object(gjson.ParseBytes(config), "", known, func(key string, v gjson.Result, path string) {
		switch key {
		case "rules":
			rulesV, hasRules = v, true
		case keyVersion, keyDescription:
			d.metadataField(&meta, key, v, path)
		case keySources:
			p.sources = d.sources(v)
		case keyReportInterval:
			if n := d.integer(v, path, 0, maxRefresh); n != nil {
				p.reportSeconds = *n
			}
		case keyReportTop:
			if n := d.integer(v, path, 1, maxReportTop); n != nil {
				p.reportTop = *n
			}
		case keyCandidate:
			topCand = d.candidateFields(v, path)
		case keyRollout:
			hasPercent = true
			if n := d.integer(v, path, 0, 100); n != nil {
				topPercent = *n
			}
		default:
			d.policyField(top, key, v, path)
		}
	})
	if !ok {
		return nil, d.errs.joined()
	}

	var sources []source
	if hasRules {
		sources = d.rules(rulesV)
		if topCand != nil || hasPercent {
			d.errs.add(keyCandidate, ProblemInvalidValue, "", "a top-level candidate applies only to a configuration without rules: put it in the rule it is a candidate for")
		}
	} else {
		sources = []source{{name: "default", match: &match{}, lv: top, cand: topCand, percent: topPercent}}
		if hasPercent && topCand == nil {
			d.errs.add(keyRollout, ProblemMissing, "", "a rollout needs a candidate: add \"candidate\"")
		}
	}
	for i := range p.sources {
		p.dyn = append(p.dyn, &dynSet{source: i})
	}
	d.checkSetRefs(top.sets, p.sources)
	for _, src := range sources {
		if src.lv != top {
			d.checkSetRefs(src.lv.sets, p.sources)
		}
		if src.cand != nil {
			d.checkSetRefs(src.cand.sets, p.sources)
		}
	}

	p.meta = meta
	catchAll := ""
	for i, src := range sources {
		if catchAll != "" {
			d.warn(index("rules", i), "rule "+Quote(src.name)+" is unreachable: the catch-all rule "+Quote(catchAll)+" before it matches every request")
		}
		if src.match.catchAll() && catchAll == "" && hasRules {
			catchAll = src.name
		}
		r := d.compileRule(top, src.lv, src.name)
		r.match = src.match
		r.meta = src.meta
		r.sets = p.resolveSets(r.eff.sets)
		if src.cand != nil {
			r.cand = d.compileCandidate(top, src.lv, src.cand, src.name, src.percent)
			r.cand.rule.sets = p.resolveSets(r.cand.rule.eff.sets)
		}
		p.rules = append(p.rules, r)
		p.names = append(p.names, src.name)
	}
	if len(d.errs) > 0 {
		return nil, d.errs.joined()
	}
	p.warnings = d.warnings
	if d.budget != nil {
		p.grantBudget = *d.budget
	}
	return p, nil
}

// source is one rule as written: its name, its match and the policy fields
// it sets itself, before they are resolved against the top level.
type source struct {
	_       noCompare // see noCompare
	name    string
	match   *match
	lv      *fields
	meta    ruleMetadata
	cand    *fields // the rule's candidate, nil without one
	percent int     // candidate_rollout_percent
}

// rules decodes the rules array, recording every error in d: each rule's
// name (required, unique), its match, and its own policy fields.
func (d *decoder) rules(v gjson.Result) []source {
	if !v.IsArray() {
		d.errs.add("rules", ProblemWrongType, "", "must be an array of rule objects, not "+typeName(v))
		return nil
	}
	var sources []source
	names := map[string]string{}  // rule name → its path
	series := map[string]string{} // metricSeries(name) → the first name with it
	i := 0
	v.ForEach(func(_, rv gjson.Result) bool {
		path := index("rules", i)
		i++
		src := source{match: &match{}, lv: &fields{path: path}}
		hasName := false
		known := append(append([]string{"name", "match", keyCandidate, keyRollout}, policyKeys...), ruleMetadataKeys...)
		hasPercent := false
		if !d.object(rv, path, known, func(key string, v gjson.Result, p string) {
			switch key {
			case "name":
				hasName = true
				if s, ok := d.str(v, p); ok {
					if validRuleName(s) {
						key := metricSeries(s)
						if prev, dup := names[s]; dup {
							d.errs.add(p, ProblemDuplicateName, s, "duplicate rule name (also at "+prev+")")
						} else if other, clash := series[key]; clash {
							d.errs.add(p, ProblemDuplicateName, s, "its metrics would be counted with those of rule "+
								Quote(other)+" (at "+names[other]+"): Envoy exports both as cors_"+key+"_*, since Prometheus names turn '-' into '_'; rename one")
						} else {
							series[key] = s
						}
						if _, dup := names[s]; !dup {
							names[s] = p
						}
						src.name = s
					} else {
						d.errs.add(p, ProblemInvalidName, s, "a rule name is 1 to 64 letters, digits, '-' or '_' (it names metrics)")
					}
				}
			case "match":
				src.match = d.match(v, p)
			case keyDescription, keyInternal:
				d.ruleMetadataField(&src.meta, key, v, p)
			case keyCandidate:
				src.cand = d.candidateFields(v, p)
			case keyRollout:
				hasPercent = true
				if n := d.integer(v, p, 0, 100); n != nil {
					src.percent = *n
				}
			default:
				d.policyField(src.lv, key, v, p)
			}
		}) {
			return true
		}
		if !hasName {
			d.errs.add(path, ProblemMissing, "", "a rule needs a \"name\"")
		}
		if hasPercent && src.cand == nil && !d.hasErrorAt(field(path, keyCandidate)) {
			d.errs.add(field(path, keyRollout), ProblemMissing, "", "a rollout needs a candidate: add \"candidate\" to the rule")
		}
		sources = append(sources, src)
		return true
	})
	if i == 0 {
		d.errs.add("rules", ProblemMissing, "", "must not be empty: remove it for one catch-all policy, or add rules")
	}
	return sources
}

// metricSeries returns a rule name as it appears in the names of its
// metrics once Envoy exports them to Prometheus. The plugin defines
// cors.<rule>.<outcome>; Envoy prefixes it with the wasmcustom. namespace,
// and its Prometheus output strips the namespace and turns every character
// outside [a-zA-Z0-9_] into '_' (PrometheusStatsFormatter::sanitizeName),
// so rules a-b and a_b would count into one series. No outcome name ends
// with '_' and another outcome's name, so equal series mean equal results
// here.
//
// Out of line: configuration code, for the size of cors.wasm.
//
//go:noinline
func metricSeries(name string) string { return replaceByte(name, '-', '_') }

// Out of line: configuration code, for the size of cors.wasm.
//
//go:noinline
func validRuleName(s string) bool {
	if s == "" || len(s) > maxRuleName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// pick returns the rule's value when set, else the top level's.
func pick[T any](own, top *T) *T {
	if own != nil {
		return own
	}
	return top
}

func deref[T any](v *T, def T) T {
	if v == nil {
		return def
	}
	return *v
}

// compileRule resolves a rule's fields against the top level, runs the
// checks that involve several fields, and precomputes its answers.
func (d *decoder) compileRule(top, own *fields, name string) rule {
	// allowed_origins and allowed_origin_regexes form one origin set: a
	// rule that sets either replaces both.
	originsL, regexesL, setsL := top.origins, top.regexes, top.sets
	if own.origins != nil || own.regexes != nil || own.sets != nil || d.hasErrorAt(field(own.path, keyOrigins), field(own.path, keyOriginRegexes), field(own.path, keyOriginSets)) {
		originsL, regexesL, setsL = own.origins, own.regexes, own.sets
	}
	credentials := deref(pick(own.credentials, top.credentials), false)
	allowNull := deref(pick(own.allowNull, top.allowNull), false)
	allowInsecure := deref(pick(own.allowInsecure, top.allowInsecure), false)
	allowPNAAny := deref(pick(own.allowPNAAny, top.allowPNAAny), false)
	methodsS := pick(own.methods, top.methods)
	headersS := pick(own.headers, top.headers)
	exposeS := pick(own.expose, top.expose)

	// where qualifies an error about a value the rule inherited.
	where := func(path string) string {
		if own.path != "" && !strings.HasPrefix(path, own.path) {
			return " (inherited by rule " + Quote(name) + ")"
		}
		return ""
	}

	r := rule{
		name:            name,
		mode:            deref(pick(own.mode, top.mode), modeEnforce),
		credentials:     credentials,
		privateNetwork:  deref(pick(own.privateNetwork, top.privateNetwork), false),
		preflightStatus: deref(pick(own.preflightStatus, top.preflightStatus), 204),
		reject:          deref(pick(own.reject, top.reject), false),
		forwardDenied:   deref(pick(own.forwardDenied, top.forwardDenied), false),
		debug:           deref(pick(own.debug, top.debug), false),
		eff:             effective{maxAge: -1, allowNull: allowNull, allowInsecure: allowInsecure, allowPNAAny: allowPNAAny},
		grants:          pick(own.grants, top.grants),
	}

	r.eff.sets = setsL
	r.secureSets = credentials && !allowInsecure
	if originsL == nil && regexesL == nil && setsL == nil && r.grants == nil {
		path, msg := own.path, "rule "+Quote(name)+" allows no origin: set allowed_origins, allowed_origin_regexes, allowed_origin_sets or grants, in the rule or at the top level (an empty list denies every origin)"
		if path == "" {
			path, msg = keyOrigins, "required: list the origins allowed to make cross-origin requests (an empty list denies every origin)"
		}
		// An origin list that failed to decode was reported already.
		if !d.hasErrorAt(keyOrigins, keyOriginRegexes, keyOriginSets, field(own.path, keyOrigins), field(own.path, keyOriginRegexes), field(own.path, keyOriginSets)) {
			d.errs.add(path, ProblemNoOrigins, "", msg)
		}
	}
	// open names an entry that admits origins anyone can register ("*",
	// a wildcard over a public suffix, a regex spanning sites), which only
	// stands without credentials.
	open := ""
	if originsL != nil {
		r.origins = originsL.set
		r.eff.origins = originsL
		if e := originsL.entry(originsL.anyAt); e != nil {
			open = "*"
			if credentials {
				d.errs.add(e.path, ProblemCredentials, "*", "for security reasons, any origin cannot be combined with allow_credentials: list the allowed origins"+where(e.path))
			}
		}
		if e := originsL.entry(originsL.nullAt); e != nil {
			// Any sandboxed document can send "null": with private network
			// access it is as open as "*".
			open = "null"
		}
		if e := originsL.entry(originsL.nullAt); e != nil && !allowNull {
			d.errs.add(e.path, ProblemNullOrigin, "null", "any sandboxed iframe or data: document can claim the null origin; set "+keyAllowNull+" to allow it anyway"+where(e.path))
		}
		if credentials && !allowInsecure {
			for _, i := range originsL.insecure {
				e := &originsL.entries[i]
				d.errs.add(e.path, ProblemCredentials, e.value, "an http origin with allow_credentials lets any network attacker read credentialed responses: use https, or set "+keyAllowInsecure+where(e.path))
			}
		}
		for _, i := range originsL.spans {
			e := &originsL.entries[i]
			why := Quote(e.suffix) + " is a public suffix: anyone can register a name under it"
			if e.suffix != e.pattern.Host {
				why = Quote(e.pattern.Host) + " has public suffixes below it, such as " + Quote(e.suffix) + ": anyone can register a name there"
			}
			if credentials {
				d.errs.add(e.path, ProblemPublicSuffix, e.value, why+"; with allow_credentials, list the origins"+where(e.path))
			} else {
				d.warn(e.path, Quote(e.value)+" admits sites that anyone can register, as \"*\" does: "+why)
				open = e.value
			}
		}
	}
	if regexesL != nil {
		r.regexes = regexesL.re
		r.eff.regexes = regexesL
		secure := credentials && !allowInsecure
		for i, src := range regexesL.src {
			if d.regexBytes > maxRegexBytes {
				break // refused already; the rest was not compiled
			}
			if o := d.checkOriginRegex(regexesL.paths[i], src, regexesL.proof(i, secure, &d.proofs), credentials, where); o != "" {
				open = o
			}
		}
	}
	if r.privateNetwork && open != "" && !allowPNAAny {
		path := keyPrivateNetwork
		if own.privateNetwork != nil {
			path = field(own.path, keyPrivateNetwork)
		}
		d.errs.add(path, ProblemPrivateNetwork, "", "with "+Quote(open)+" in the origins, any public website could reach this service on a private network: list the origins, or set "+keyAllowPNAAny+where(path))
	}
	r.staticAny = r.origins != nil && r.origins.Any() && !credentials

	if methodsS != nil {
		r.anyMethod, r.methods, r.eff.methods = methodsS.any, newNameSet(methodsS), methodsS
	}
	if headersS != nil {
		r.anyHeader, r.headers, r.eff.headers = headersS.any, newNameSet(headersS), headersS
	}
	if exposeS != nil {
		r.eff.expose = exposeS
		if exposeS.any && credentials {
			d.errs.add(exposeS.anyAt, ProblemCredentials, "*", "with allow_credentials, browsers read \"*\" as a header literally named \"*\": list the headers to expose"+where(exposeS.anyAt))
		}
		r.aceh = exposeS.joined
	}
	if ma := pick(own.maxAge, top.maxAge); ma != nil {
		r.acma = itoa(*ma)
		r.eff.maxAge = *ma
	}

	r.varyPreflight = "Access-Control-Request-Method, Access-Control-Request-Headers"
	if !r.staticAny {
		r.varyActual = "Origin"
		r.varyPreflight = "Origin, " + r.varyPreflight
	}
	if r.privateNetwork {
		r.varyPreflight += ", Access-Control-Request-Private-Network"
	}
	return r
}

// withStar returns a set's names with "*" first when it was listed.
//
// Out of line: configuration code, for the size of cors.wasm.
//
//go:noinline
func withStar(s *tokenSet) []string {
	if s == nil {
		return nil
	}
	if s.any {
		return append([]string{"*"}, s.names...)
	}
	return append([]string{}, s.names...)
}

// hasErrorAt reports whether an error was recorded at or under one of the
// paths.
//
// Out of line: configuration code, for the size of cors.wasm.
//
//go:noinline
func (d *decoder) hasErrorAt(paths ...string) bool {
	for _, err := range d.errs {
		e := err.(*Error)
		for _, p := range paths {
			if e.Path == p || strings.HasPrefix(e.Path, p+"[") {
				return true
			}
		}
	}
	return false
}

// UsesRouteNames reports whether any rule matches on Envoy's route name, so
// that the filter reads the xds.route_name property only when it matters
// (each property read is a host call).
func (p *Policy) UsesRouteNames() bool {
	for i := range p.rules {
		if len(p.rules[i].match.routes) > 0 {
			return true
		}
	}
	return false
}

// RuleNames returns the rule names in order; a configuration without rules
// has one rule, "default".
func (p *Policy) RuleNames() []string { return append([]string(nil), p.names...) }

// Warnings returns the non-fatal problems found at load, such as a max age
// above Chromium's cap or an unreachable rule, each "cors: <path>: <text>".
func (p *Policy) Warnings() []string { return append([]string(nil), p.warnings...) }

// PublicSuffixList names the revision of the Public Suffix List that the
// policy judges wildcards and origin regexes by, as "2026-02-06 d6c92f1b".
func PublicSuffixList() string { return psl.Revision() }
