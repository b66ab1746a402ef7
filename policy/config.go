package policy

import (
	"github.com/corsfilter/corsfilter/policy/internal/ascii"
	"slices"
	"strconv"
	"strings"

	"github.com/corsfilter/corsfilter/policy/internal/headers"
	"github.com/corsfilter/corsfilter/policy/internal/methods"
	"github.com/corsfilter/corsfilter/policy/internal/origins"
	"github.com/corsfilter/corsfilter/policy/internal/regex"
	"github.com/corsfilter/corsfilter/policy/internal/sites"
	"github.com/tidwall/gjson"
)

// This file decodes the JSON configuration strictly and validates each value
// on its own. Checks that involve several fields (credentials with
// wildcards, null with its opt-in, ...) need the effective rule and live in
// compileRule, in policy.go.

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
	keyForwardDenied, keyDebug, keyAllowNull, keyAllowInsecure, keyAllowPNAAny,
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
	maxProofStates = 200_000
)

// Mode is a rule's enforcement mode.
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

// level holds the policy fields written at one level of the document (the
// top level or one rule), each decoded and validated on its own. A nil
// pointer means the key is absent, so the field is inherited.
type level struct {
	path string // "" for the top level, "rules[k]" for a rule

	origins         *originList
	regexes         *regexList
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
}

// originEntry is one valid allowed_origins element.
type originEntry struct {
	path    string
	value   string // canonical form: "*", "null" or a pattern
	pattern origins.Pattern
	suffix  string // for a pattern spanning several sites, the public suffix responsible
}

// originList is a decoded allowed_origins array and its compiled set.
type originList struct {
	path     string
	entries  []originEntry
	set      *origins.Set
	anyAt    int   // index of "*" in entries, or -1
	nullAt   int   // index of "null" in entries, or -1
	insecure []int // indexes of plain-http, non-loopback patterns
	spans    []int // indexes of patterns admitting several sites ("https://*.github.io")
}

func (l *originList) entry(i int) *originEntry {
	if i < 0 {
		return nil
	}
	return &l.entries[i]
}

func (l *originList) values() []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l.entries))
	for i, e := range l.entries {
		out[i] = e.value
	}
	return out
}

// regexList is a decoded allowed_origin_regexes array.
type regexList struct {
	path  string
	paths []string
	src   []string
	re    []*regex.Regexp

	// proofs[secure][i] is the proof that re[i] stays within one site,
	// made when a rule first needs it (with or without secure schemes).
	proofs [2][]*sites.Result
}

// proof returns the proof for regex i, making it on first use.
func (l *regexList) proof(i int, secure bool, b *sites.Budget) *sites.Result {
	k := b2i(secure)
	if l.proofs[k] == nil {
		l.proofs[k] = make([]*sites.Result, len(l.re))
	}
	if l.proofs[k][i] == nil {
		res := sites.Prove(l.re[i], secure, b)
		l.proofs[k][i] = &res
	}
	return l.proofs[k][i]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (l *regexList) sources() []string {
	if l == nil {
		return nil
	}
	return append([]string{}, l.src...)
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
		if len(n) == len(name) && n == name {
			return true
		}
	}
	return false
}

// decoder walks a gjson document and collects every error.
type decoder struct {
	errs     errs
	warnings []string
	warned   map[string]bool // warnings given, so that inherited values warn once

	regexBytes int          // automaton tables compiled so far
	proofs     sites.Budget // proof work left
}

func (d *decoder) warn(path, msg string) {
	if path != "" {
		msg = path + ": " + msg
	}
	msg = "cors: " + msg
	if d.warned[msg] {
		return
	}
	if d.warned == nil {
		d.warned = map[string]bool{}
	}
	d.warned[msg] = true
	d.warnings = append(d.warnings, msg)
}

// object iterates over the members of a JSON object, reporting a wrong type,
// duplicate keys and keys outside known.
func (d *decoder) object(v gjson.Result, path string, known []string, each func(key string, v gjson.Result, path string)) bool {
	if !v.IsObject() {
		d.errs.add(orRoot(path), ReasonWrongType, "", "must be an object, not "+typeName(v))
		return false
	}
	seen := make(map[string]bool)
	v.ForEach(func(k, val gjson.Result) bool {
		key := k.String()
		p := field(path, key)
		switch {
		case seen[key]:
			d.errs.add(p, ReasonDuplicateKey, "", "duplicate key")
		case !slices.Contains(known, key):
			msg := "unknown key"
			if s := suggest(key, known); s != "" {
				msg += " (did you mean \"" + s + "\"?)"
			}
			d.errs.add(p, ReasonUnknownKey, "", msg)
		default:
			each(key, val, p)
		}
		seen[key] = true
		return true
	})
	return true
}

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

// suggest returns the known key closest to key, if it is a likely typo.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(key, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func typeName(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return "null"
	case gjson.False, gjson.True:
		return "a boolean"
	case gjson.Number:
		return "a number"
	case gjson.String:
		return "a string"
	}
	if v.IsArray() {
		return "an array"
	}
	return "an object"
}

func (d *decoder) boolean(v gjson.Result, path string) *bool {
	if v.Type != gjson.True && v.Type != gjson.False {
		d.errs.add(path, ReasonWrongType, "", "must be a boolean, not "+typeName(v))
		return nil
	}
	b := v.Type == gjson.True
	return &b
}

// integer decodes a JSON number that must be an integer in [lo, hi].
func (d *decoder) integer(v gjson.Result, path string, lo, hi int) *int {
	if v.Type != gjson.Number {
		d.errs.add(path, ReasonWrongType, "", "must be an integer, not "+typeName(v))
		return nil
	}
	n, err := strconv.Atoi(v.Raw)
	if err != nil {
		if strings.ContainsAny(v.Raw, ".eE") {
			d.errs.add(path, ReasonWrongType, v.Raw, "must be an integer")
		} else {
			d.errs.add(path, ReasonOutOfRange, v.Raw, "must be between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
		}
		return nil
	}
	if n < lo || n > hi {
		d.errs.add(path, ReasonOutOfRange, v.Raw, "must be between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
		return nil
	}
	return &n
}

func (d *decoder) str(v gjson.Result, path string) (string, bool) {
	if v.Type != gjson.String {
		d.errs.add(path, ReasonWrongType, "", "must be a string, not "+typeName(v))
		return "", false
	}
	return v.Str, true
}

// strings decodes an array of strings, calling each for every valid element.
// An empty array is an error unless allowEmpty: a policy list may be empty,
// meaning "none", but a match list may not (absent means "any").
func (d *decoder) strings(v gjson.Result, path string, allowEmpty bool, each func(s, path string)) bool {
	if !v.IsArray() {
		d.errs.add(path, ReasonWrongType, "", "must be an array of strings, not "+typeName(v))
		return false
	}
	i := 0
	v.ForEach(func(_, e gjson.Result) bool {
		p := index(path, i)
		i++
		if s, ok := d.str(e, p); ok {
			each(s, p)
		}
		return true
	})
	if i == 0 && !allowEmpty {
		d.errs.add(path, ReasonMissing, "", "must not be empty (remove the key instead)")
		return false
	}
	return true
}

// policyField decodes one policy field into lv.
func (d *decoder) policyField(lv *level, key string, v gjson.Result, path string) {
	switch key {
	case keyOrigins:
		lv.origins = d.originList(v, path)
	case keyOriginRegexes:
		lv.regexes = d.regexList(v, path)
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
			d.warn(path, strconv.Itoa(*lv.maxAge)+" exceeds Chromium's cap of 7200 seconds; Chromium will cache preflights for 7200 seconds only")
		}
	case keyPrivateNetwork:
		lv.privateNetwork = d.boolean(v, path)
	case keyPreflightStatus:
		if v.Type == gjson.Number {
			if n := d.integer(v, path, 100, 599); n != nil {
				if *n < 200 || *n > 299 {
					d.errs.add(path, ReasonOutOfRange, v.Raw, "must be a 2xx status: browsers fail a preflight whose status is not ok")
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
				d.errs.add(path, ReasonInvalidValue, s, "must be \"enforce\", \"report_only\" or \"off\"")
			}
		}
	case keyReject:
		lv.reject = d.boolean(v, path)
	case keyForwardDenied:
		lv.forwardDenied = d.boolean(v, path)
	case keyDebug:
		lv.debug = d.boolean(v, path)
	case keyAllowNull:
		lv.allowNull = d.boolean(v, path)
	case keyAllowInsecure:
		lv.allowInsecure = d.boolean(v, path)
	case keyAllowPNAAny:
		lv.allowPNAAny = d.boolean(v, path)
	}
}

func (d *decoder) originList(v gjson.Result, path string) *originList {
	l := &originList{path: path, anyAt: -1, nullAt: -1}
	seen := map[string]bool{}
	ok := d.strings(v, path, true, func(s, p string) {
		e := originEntry{path: p, value: s}
		switch s {
		case "*", "null":
		default:
			pat, perr := origins.ParsePattern(s)
			if perr != nil {
				d.errs.add(p, originReason(perr.Defect), s, perr.Detail)
				return
			}
			e.pattern = pat
			e.value = pat.String()
		}
		if seen[e.value] {
			d.warn(p, Quote(s)+" is listed twice")
			return
		}
		seen[e.value] = true
		switch {
		case e.value == "*":
			l.anyAt = len(l.entries)
		case e.value == "null":
			l.nullAt = len(l.entries)
		case e.pattern.IsInsecure():
			l.insecure = append(l.insecure, len(l.entries))
		}
		if suffix, spans := e.pattern.SpansSites(); spans {
			e.suffix = suffix
			l.spans = append(l.spans, len(l.entries))
		}
		l.entries = append(l.entries, e)
	})
	if !ok {
		return nil
	}
	if l.anyAt >= 0 && len(l.entries) > 1 {
		d.warn(path, "\"*\" allows every origin: the other entries are redundant")
	}
	l.set = origins.NewSet()
	for _, e := range l.entries {
		switch e.value {
		case "*":
			l.set.AddAny()
		case "null":
			l.set.AddNull()
		default:
			l.set.Add(e.pattern)
		}
	}
	return l
}

func originReason(d origins.Defect) Reason {
	switch d {
	case origins.NonCanonical:
		return ReasonNonCanonical
	case origins.MisplacedWildcard:
		return ReasonWildcard
	case origins.OpaqueScheme:
		return ReasonNullOrigin
	}
	return ReasonInvalidOrigin
}

func (d *decoder) regexList(v gjson.Result, path string) *regexList {
	l := &regexList{path: path}
	ok := d.strings(v, path, true, func(s, p string) {
		if re := d.anchoredRegex(s, p); re != nil {
			l.paths = append(l.paths, p)
			l.src = append(l.src, s)
			l.re = append(l.re, re)
		}
	})
	if !ok {
		return nil
	}
	return l
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
		d.errs.add(path, ReasonInvalidRegex, s, "does not compile: "+err.Error())
		return nil
	}
	if !re.Anchored() {
		d.errs.add(path, ReasonInvalidRegex, s, "must be anchored: start with ^ and end with $ around the whole expression")
		return nil
	}
	if d.regexBytes += re.Size(); d.regexBytes > maxRegexBytes {
		d.errs.add(path, ReasonOverBudget, "", "the regexes up to here need more than "+strconv.Itoa(maxRegexBytes>>20)+
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
	ok := d.strings(v, path, true, func(item, p string) {
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
			d.errs.add(p, ReasonInvalidMethod, m, "not a valid method token")
		case methods.IsForbidden(m):
			d.errs.add(p, ReasonForbiddenMethod, m, "a forbidden method: browsers never let scripts send it")
		case methods.Normalized(m) != m:
			d.errs.add(p, ReasonInvalidMethod, m, "browsers send this method as "+Quote(methods.Normalized(m))+", and methods are case-sensitive: write "+Quote(methods.Normalized(m)))
		case methods.IsSafelisted(m):
			// GET, HEAD and POST never need Access-Control-Allow-Methods.
		default:
			return m
		}
		return ""
	})
}

// headerSet decodes allowed_request_headers or, when response is set,
// exposed_response_headers. Names are case-insensitive and stored in lower
// case.
func (d *decoder) headerSet(v gjson.Result, path string, response bool) *tokenSet {
	return d.tokenList(v, path, func(h, p string) string {
		name := ascii.Lower(h)
		switch {
		case !headers.IsToken(h) || len(h) > headers.MaxNameLength:
			d.errs.add(p, ReasonInvalidHeader, h, "not a valid header name")
		case !response && headers.IsForbiddenRequest(name):
			d.errs.add(p, ReasonForbiddenHeader, h, "a forbidden request header: browsers never let scripts set it")
		case response && headers.IsForbiddenResponse(name):
			d.errs.add(p, ReasonForbiddenHeader, h, "a forbidden response header: browsers never expose it to scripts")
		case response && headers.IsSafelistedResponse(name):
			// Scripts can always read safelisted response headers.
		default:
			return name
		}
		return ""
	})
}
