package policy

import (
	"strings"

	"github.com/corsfilter/corsfilter/internal/streq"
	"github.com/corsfilter/corsfilter/policy/internal/ascii"
	"github.com/corsfilter/corsfilter/policy/internal/headers"
	"github.com/corsfilter/corsfilter/policy/internal/methods"
	"github.com/corsfilter/corsfilter/policy/internal/regex"
	"github.com/tidwall/gjson"
)

// This file decodes the policy fields and validates each value on its own;
// the origin lists are decoded in origins.go. Checks that involve several
// fields (credentials with wildcards, null with its opt-in, ...) need the
// effective rule and live in compileRule, in policy.go.

// Policy field keys, valid at the top level and in every rule.
const (
	keyOrigins         = "allowed_origins"
	keyOriginRegexes   = "allowed_origin_regexes"
	keyMethods         = "allowed_methods"
	keyHeaders         = "allowed_request_headers"
	keyExpose          = "exposed_response_headers"
	keyCredentials     = "allow_credentials"
	keyMaxAge          = "max_age_seconds"
	keyPrivateNetwork  = "allow_private_network"
	keyPreflightStatus = "preflight_status"
	keyMode            = "mode"
	keyReject          = "reject_disallowed_origins"
	keyForwardDenied   = "forward_denied_preflights"
	keyDebug           = "debug"
	keyAllowNull       = "dangerously_allow_null_origin"
	keyAllowInsecure   = "dangerously_allow_insecure_origins_with_credentials"
	keyAllowPNAAny     = "dangerously_allow_private_network_from_any_origin"
)

var policyKeys = []string{
	keyOrigins, keyOriginRegexes, keyMethods, keyHeaders, keyExpose, keyCredentials,
	keyMaxAge, keyPrivateNetwork, keyPreflightStatus, keyMode, keyReject,
	keyForwardDenied, keyDebug, keyAllowNull, keyAllowInsecure, keyAllowPNAAny, keyGrants,
	keyOriginSets,
}

var matchKeys = []string{"hosts", "paths", "path_prefixes", "path_regexes", "route_names", "methods"}

// Limits that keep a hostile or mistaken configuration from exhausting the
// plugin's memory.
const (
	maxMaxAge     = 86400 // seconds; Firefox's cap
	chromiumCap   = 7200  // seconds; above it Chromium silently uses 7200
	maxRuleName   = 64
	maxConfigSize = 16 << 20
	maxDepth      = 32  // nesting of arrays and objects; the schema needs 4
	maxErrors     = 100 // errors reported; the rest are counted
	maxValueLen   = 120 // bytes of an offending value quoted in an error

	// maxRegexBytes bounds the automaton tables of all the regexes of a
	// configuration (origin and path regexes alike). One regex of the
	// largest size takes about 0.25 MiB, a typical one 1-2 KiB.
	maxRegexBytes = 8 << 20
	// maxProofStates bounds the automaton states explored, over the whole
	// configuration, to prove that origin regexes stay within one site.
	maxProofStates = 100_000
	// maxDFAWork bounds the word operations spent building the automata of
	// the origin regexes of a configuration (about 20 ms natively).
	maxDFAWork = 20_000_000
	// maxDFAWorkPerRegex bounds it for one regex.
	maxDFAWorkPerRegex = 5_000_000
)

// mode is a rule's enforcement mode.
type mode uint8

const (
	modeEnforce mode = iota
	modeReportOnly
	modeOff
)

// parseMode returns the mode named s.
func parseMode(s string) (mode, bool) {
	switch s {
	case "enforce":
		return modeEnforce, true
	case "report_only":
		return modeReportOnly, true
	case "off":
		return modeOff, true
	}
	return 0, false
}

func (m mode) String() string {
	switch m {
	case modeReportOnly:
		return "report_only"
	case modeOff:
		return "off"
	}
	return "enforce"
}

// fields holds the policy fields written at one level of the document (the
// top level or one rule), each decoded and validated on its own. A nil
// pointer means the key is absent, so the field is inherited.
type fields struct {
	_    noCompare // see noCompare
	path string    // "" for the top level, "rules[k]" for a rule

	origins         *originList
	regexes         *regexList
	sets            *setList
	methods         *tokenSet
	headers         *tokenSet
	expose          *tokenSet
	credentials     *bool
	maxAge          *int
	privateNetwork  *bool
	preflightStatus *int
	mode            *mode
	reject          *bool
	forwardDenied   *bool
	debug           *bool
	allowNull       *bool
	allowInsecure   *bool
	allowPNAAny     *bool
	grants          *grants
}

// tokenSet is a decoded list of methods or header names.
type tokenSet struct {
	path   string
	any    bool     // "*" was listed
	anyAt  string   // path of "*"
	names  []string // normalized, de-duplicated, in order; "*" excluded
	joined string   // the header value: "*" first when listed, then names, comma-separated
	lookup map[string]struct{}
}

func (s *tokenSet) has(name string) bool { _, ok := s.lookup[name]; return ok }

// nameSet is a read-only set of names, tuned for the request path: a few
// names are scanned, comparing lengths first, which beats hashing; many
// names are hashed.
type nameSet struct {
	names []string
	m     map[string]struct{} // nil when names is short
}

const smallSet = 16

func newNameSet(s *tokenSet) nameSet {
	if len(s.names) > smallSet {
		return nameSet{m: s.lookup}
	}
	return nameSet{names: s.names}
}

func (s nameSet) has(name string) bool {
	if s.m != nil {
		_, ok := s.m[name]
		return ok
	}
	for _, n := range s.names {
		if streq.Equal(n, name) {
			return true
		}
	}
	return false
}

// policyField decodes one policy field into lv.
func (d *decoder) policyField(lv *fields, key string, v gjson.Result, path string) {
	switch key {
	case keyOrigins:
		lv.origins = d.originList(v, path)
	case keyOriginRegexes:
		lv.regexes = d.regexList(v, path)
	case keyOriginSets:
		lv.sets = d.setList(v, path)
	case keyMethods:
		lv.methods = d.methodSet(v, path)
	case keyHeaders:
		lv.headers = d.headerSet(v, path, false)
	case keyExpose:
		lv.expose = d.headerSet(v, path, true)
	case keyCredentials:
		lv.credentials = d.boolean(v, path)
	case keyMaxAge:
		lv.maxAge = d.integer(v, path, 0, maxMaxAge)
		if lv.maxAge != nil && *lv.maxAge > chromiumCap {
			d.warn(path, itoa(*lv.maxAge)+" exceeds Chromium's cap of 7200 seconds; Chromium will cache preflights for 7200 seconds only")
		}
	case keyPrivateNetwork:
		lv.privateNetwork = d.boolean(v, path)
	case keyPreflightStatus:
		if v.Type == gjson.Number {
			if n := d.integer(v, path, 100, 599); n != nil {
				if *n < 200 || *n > 299 {
					d.errs.add(path, ProblemOutOfRange, v.Raw, "must be a 2xx status: browsers fail a preflight whose status is not ok")
				} else {
					lv.preflightStatus = n
				}
			}
		} else {
			d.integer(v, path, 200, 299)
		}
	case keyMode:
		if s, ok := d.str(v, path); ok {
			if m, ok := parseMode(s); ok {
				lv.mode = &m
			} else {
				d.errs.add(path, ProblemInvalidValue, s, "must be \"enforce\", \"report_only\" or \"off\"")
			}
		}
	case keyReject:
		lv.reject = d.boolean(v, path)
	case keyForwardDenied:
		lv.forwardDenied = d.boolean(v, path)
	case keyDebug:
		lv.debug = d.boolean(v, path)
		if lv.debug != nil && *lv.debug {
			d.warn(path, "true adds x-cors-debug with the reason of each denial to denied preflights, which discloses the policy to anyone who asks: keep it off in production")
		}
	case keyAllowNull:
		lv.allowNull = d.boolean(v, path)
	case keyAllowInsecure:
		lv.allowInsecure = d.boolean(v, path)
	case keyAllowPNAAny:
		lv.allowPNAAny = d.boolean(v, path)
	case keyGrants:
		lv.grants = d.decodeGrants(v, path)
	}
}

// anchoredRegex compiles an RE2 regex that must be anchored at both ends
// (^…$) over its whole expression, so that "^a|b$" is refused. It charges
// the compiled tables to the configuration's budget; once the budget is
// spent, later regexes are not compiled at all.
func (d *decoder) anchoredRegex(s, path string) *regex.Regexp {
	if d.regexBytes > maxRegexBytes {
		return nil
	}
	re, err := regex.Compile(s)
	if err != nil {
		d.errs.add(path, ProblemInvalidRegex, s, "does not compile: "+err.Error())
		return nil
	}
	if !re.Anchored() {
		d.errs.add(path, ProblemInvalidRegex, s, "must be anchored: start with ^ and end with $ around the whole expression")
		return nil
	}
	if d.regexBytes += re.Size(); d.regexBytes > maxRegexBytes {
		d.errs.add(path, ProblemOverBudget, "", "the regexes up to here need more than "+itoa(maxRegexBytes>>20)+
			" MiB of automaton tables, the budget that bounds the plugin's memory: use fewer or simpler regexes (later ones were not compiled)")
		return nil
	}
	return re
}

// tokenList decodes a list of methods or header names. "*" marks any name;
// check validates every other entry and returns its normalized form, or ""
// when the entry is refused (check records why) or needs no listing.
func (d *decoder) tokenList(v gjson.Result, path string, check func(item, path string) string) *tokenSet {
	s := &tokenSet{path: path, lookup: map[string]struct{}{}}
	ok := d.stringList(v, path, true, func(item, p string) {
		if item == "*" {
			s.any, s.anyAt = true, p
			return
		}
		if name := check(item, p); name != "" && !s.has(name) {
			s.names = append(s.names, name)
			s.lookup[name] = struct{}{}
		}
	})
	if !ok {
		return nil
	}
	s.joined = strings.Join(withStar(s), ",")
	return s
}

// methodSet decodes allowed_methods. Methods are case-sensitive.
func (d *decoder) methodSet(v gjson.Result, path string) *tokenSet {
	return d.tokenList(v, path, func(m, p string) string {
		switch {
		case !headers.IsToken(m):
			d.errs.add(p, ProblemInvalidMethod, m, "not a valid method token")
		case methods.IsForbidden(m):
			d.errs.add(p, ProblemForbiddenMethod, m, "a forbidden method: browsers never let scripts send it")
		case methods.Normalized(m) != m:
			d.errs.add(p, ProblemInvalidMethod, m, "browsers send this method as "+Quote(methods.Normalized(m))+", and methods are case-sensitive: write "+Quote(methods.Normalized(m)))
		case methods.IsSafelisted(m):
			// GET, HEAD and POST never need Access-Control-Allow-Methods:
			// listing them suggests that the list could refuse them.
			d.warn(p, Quote(m)+" is always allowed, whatever allowed_methods says: browsers send GET, HEAD and POST without a preflight,"+
				" so a simple POST from any allowed origin gets through as well; remove it, and refuse unwanted methods at the upstream")
		default:
			return m
		}
		return ""
	})
}

// headerSet decodes allowed_request_headers or, when response is set,
// exposed_response_headers. Names are case-insensitive and stored in lower
// case.
//
// Out of line: configuration code, for the size of cors.wasm.
//
//go:noinline
func (d *decoder) headerSet(v gjson.Result, path string, response bool) *tokenSet {
	return d.tokenList(v, path, func(h, p string) string {
		name := ascii.Lower(h)
		switch {
		case !headers.IsToken(h) || len(h) > headers.MaxNameLength:
			d.errs.add(p, ProblemInvalidHeader, h, "not a valid header name")
		case !response && headers.IsForbiddenRequest(name):
			d.errs.add(p, ProblemForbiddenHeader, h, "a forbidden request header: browsers never let scripts set it")
		case response && headers.IsForbiddenResponse(name):
			d.errs.add(p, ProblemForbiddenHeader, h, "a forbidden response header: browsers never expose it to scripts")
		case response && headers.IsSafelistedResponse(name):
			// Scripts can always read safelisted response headers.
		default:
			return name
		}
		return ""
	})
}
