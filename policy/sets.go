package policy

import (
	"strings"
	"sync/atomic"

	"github.com/corsfilter/corsfilter/policy/internal/origins"
	"github.com/tidwall/gjson"
)

// This file holds the origin sets fetched from a registry: the top-level
// origin_sources, the allowed_origin_sets that rules name them by, and the
// sets themselves, validated entry by entry as static origins are. The
// filter fetches them (filter/sources.go); the policy only looks them up.

// Keys of origin sources and of the denied-origins report.
const (
	keySources        = "origin_sources"
	keyOriginSets     = "allowed_origin_sets"
	keyReportInterval = "report_interval_seconds"
	keyReportTop      = "report_top_origins"
)

var sourceKeys = []string{"name", "cluster", "authority", "path", "refresh_seconds", "timeout_ms", "max_origins"}

// Limits and defaults of origin sources and of the report.
const (
	maxSources           = 16
	maxSourceOrigins     = 100_000
	defaultMaxOrigins    = 1000
	defaultRefresh       = 60
	maxRefresh           = 86400
	defaultTimeoutMS     = 1000
	maxTimeoutMS         = 60_000
	maxSourceText        = 1024 // bytes of a cluster, authority or path
	defaultReportSeconds = 60
	defaultReportTop     = 20
	maxReportTop         = 100
)

// OriginSource is one origin_sources entry: where the filter fetches an
// origin set, how often, and how large it may be.
type OriginSource struct {
	_              noCompare // see noCompare
	Name           string
	Cluster        string // the Envoy cluster proxy_http_call goes to
	Authority      string // the :authority of the request
	Path           string // the :path of the request
	RefreshSeconds int
	TimeoutMS      int
	MaxOrigins     int
}

// MaxBodyBytes bounds the answer the filter reads: max_origins origins of
// the longest length, quoted and separated, and some room for the object
// around them. A longer answer is refused without being read.
func (s *OriginSource) MaxBodyBytes() int { return s.MaxOrigins*(origins.MaxLength+4) + 4096 }

// dynSet is the current set of one source, swapped whole by the filter
// (SetOriginSet) and read by every decision without a lock.
type dynSet struct {
	source int
	cur    atomic.Pointer[OriginSet]
}

// setList is a decoded allowed_origin_sets array: source names, in order.
type setList struct {
	path  string
	names []string
	paths []string
}

func (d *decoder) setList(v gjson.Result, path string) *setList {
	l := &setList{path: path}
	seen := map[string]bool{}
	ok := d.stringList(v, path, true, func(s, p string) {
		if seen[s] {
			d.warn(p, Quote(s)+" is listed twice")
			return
		}
		seen[s] = true
		l.names = append(l.names, s)
		l.paths = append(l.paths, p)
	})
	if !ok {
		return nil
	}
	return l
}

// sources decodes origin_sources.
func (d *decoder) sources(v gjson.Result) []OriginSource {
	if !v.IsArray() {
		d.errs.add(keySources, ProblemWrongType, "", "must be an array of source objects, not "+typeName(v))
		return nil
	}
	var out []OriginSource
	names := map[string]string{}
	series := map[string]string{}
	i := 0
	v.ForEach(func(_, sv gjson.Result) bool {
		path := index(keySources, i)
		i++
		if i > maxSources {
			if i == maxSources+1 {
				d.errs.add(path, ProblemOutOfRange, "", "at most "+itoa(maxSources)+" origin sources")
			}
			return true
		}
		s := OriginSource{RefreshSeconds: defaultRefresh, TimeoutMS: defaultTimeoutMS, MaxOrigins: defaultMaxOrigins}
		has := map[string]bool{}
		if !d.object(sv, path, sourceKeys, func(key string, v gjson.Result, p string) {
			has[key] = true
			switch key {
			case "name":
				if n, ok := d.str(v, p); ok {
					switch {
					case !validRuleName(n):
						d.errs.add(p, ProblemInvalidName, n, "a source name is 1 to 64 letters, digits, '-' or '_' (it names metrics)")
					case names[n] != "":
						d.errs.add(p, ProblemDuplicateName, n, "duplicate source name (also at "+names[n]+")")
					case series[metricSeries(n)] != "":
						d.errs.add(p, ProblemDuplicateName, n, "its metrics would be counted with those of source "+Quote(series[metricSeries(n)])+": rename one")
					default:
						names[n], series[metricSeries(n)] = p, n
					}
					s.Name = n
				}
			case "cluster", "authority", "path":
				t, ok := d.str(v, p)
				if !ok {
					return
				}
				if msg := checkSourceText(key, t); msg != "" {
					d.errs.add(p, ProblemInvalidValue, t, msg)
					return
				}
				switch key {
				case "cluster":
					s.Cluster = t
				case "authority":
					s.Authority = t
				default:
					s.Path = t
				}
			case "refresh_seconds":
				if n := d.integer(v, p, 1, maxRefresh); n != nil {
					s.RefreshSeconds = *n
				}
			case "timeout_ms":
				if n := d.integer(v, p, 1, maxTimeoutMS); n != nil {
					s.TimeoutMS = *n
				}
			case "max_origins":
				if n := d.integer(v, p, 1, maxSourceOrigins); n != nil {
					s.MaxOrigins = *n
				}
			}
		}) {
			return true
		}
		for _, k := range []string{"name", "cluster", "authority", "path"} {
			if !has[k] {
				d.errs.add(path, ProblemMissing, "", "an origin source needs "+Quote(k))
			}
		}
		if s.TimeoutMS >= s.RefreshSeconds*1000 {
			d.errs.add(field(path, "timeout_ms"), ProblemOutOfRange, itoa(s.TimeoutMS),
				"must be shorter than refresh_seconds ("+itoa(s.RefreshSeconds)+" s): one fetch ends before the next is due")
		}
		out = append(out, s)
		return true
	})
	return out
}

// checkSourceText checks a source's cluster, authority or path, which go
// into the request headers of proxy_http_call.
func checkSourceText(key, s string) string {
	if s == "" || len(s) > maxSourceText {
		return "must be 1 to " + itoa(maxSourceText) + " bytes"
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return "must not contain spaces or control characters"
		}
	}
	switch {
	case key == "path" && s[0] != '/':
		return "must start with '/'"
	case key == "authority" && strings.ContainsAny(s, "/?#@"):
		return "must be a host, optionally with a port, as in \"registry.internal:8080\""
	}
	return ""
}

// checkSetRefs reports every allowed_origin_sets entry that names no
// source.
func (d *decoder) checkSetRefs(l *setList, sources []OriginSource) {
	if l == nil {
		return
	}
	known := make([]string, len(sources))
	for i, s := range sources {
		known[i] = s.Name
	}
	for i, n := range l.names {
		if sourceIndex(sources, n) < 0 {
			msg := "no origin source is named " + Quote(n) + ": add it to origin_sources"
			if c := Closest(n, known); c != "" {
				msg = "no origin source is named " + Quote(n) + " (did you mean " + Quote(c) + "?)"
			}
			d.errs.add(l.paths[i], ProblemUnknownSet, n, msg)
		}
	}
}

func sourceIndex(sources []OriginSource, name string) int {
	for i := range sources {
		if sources[i].Name == name {
			return i
		}
	}
	return -1
}

// resolveSets returns the sets a rule's allowed_origin_sets names.
//
// Out of line: configuration code, for the size of cors.wasm.
//
//go:noinline
func (p *Policy) resolveSets(l *setList) []*dynSet {
	if l == nil {
		return nil
	}
	out := []*dynSet{}
	for _, n := range l.names {
		if i := sourceIndex(p.sources, n); i >= 0 {
			out = append(out, p.dyn[i])
		}
	}
	return out
}

// OriginSet is an origin set as a registry published it, every entry
// validated as an allowed_origins entry is. It is immutable.
type OriginSet struct {
	all    *origins.Set
	secure *origins.Set // without plain-http origins, for rules with credentials
	list   []string     // canonical entries, in order
}

// Len returns the number of origins in the set.
func (s *OriginSet) Len() int { return len(s.list) }

// Origins returns the canonical entries, in the registry's order.
func (s *OriginSet) Origins() []string { return append([]string(nil), s.list...) }

// Dropped is an entry of a registry's answer that was not used.
type Dropped struct {
	_      noCompare // see noCompare
	Index  int       // position in the answer's origins array
	Value  string    // the entry, cut to 128 bytes
	Reason string
}

// maxDropSamples bounds the dropped entries kept for the log.
const maxDropSamples = 5

// SetErr is why a registry's answer was refused as a whole.
type SetErr string

func (e SetErr) Error() string { return string(e) }

// ParseOriginSet reads a registry's answer, {"origins": [...]}, and
// validates every entry as an allowed_origins entry: canonical, not "*",
// not "null", and not a wildcard admitting sites anyone can register.
// Invalid entries are dropped: dropped counts them and samples names the
// first few. The answer is refused whole (err) when it is not such an
// object, or when more than max entries are valid: a registry that grew
// past the limit is not truncated at some arbitrary entry.
func ParseOriginSet(body []byte, max int) (set *OriginSet, dropped int, samples []Dropped, err error) {
	// Before any recursive parsing, as for a configuration: a registry
	// answer nested millions deep would overflow the VM's stack in
	// ValidBytes, and kill the fetching VM, then the next one to fetch.
	if tooDeep(body) {
		return nil, 0, nil, SetErr("the answer nests arrays and objects deeper than " + itoa(maxDepth) + " levels")
	}
	if !gjson.ValidBytes(body) {
		return nil, 0, nil, SetErr("the answer is not valid JSON")
	}
	doc := gjson.ParseBytes(body)
	if !doc.IsObject() {
		return nil, 0, nil, SetErr("the answer is not a JSON object")
	}
	// The object's members are walked rather than queried with Get,
	// whose path syntax links gjson's modifiers (80 KB of cors.wasm).
	var list gjson.Result
	doc.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "origins" {
			list = v
			return false
		}
		return true
	})
	if !list.IsArray() {
		return nil, 0, nil, SetErr("the answer has no \"origins\" array")
	}
	b := setBuilder{max: max}
	i := 0
	list.ForEach(func(_, e gjson.Result) bool {
		if e.Type != gjson.String {
			b.drop(i, e.Raw, "not a string")
		} else {
			b.add(i, e.Str)
		}
		i++
		return b.err == nil
	})
	if b.err != nil {
		return nil, b.dropped, b.samples, b.err
	}
	return b.build(), b.dropped, b.samples, nil
}

// NewOriginSet validates a list of origins as ParseOriginSet validates an
// answer's entries: the filter rebuilds a set from shared data with it.
func NewOriginSet(list []string, max int) (set *OriginSet, dropped int, err error) {
	b := setBuilder{max: max}
	for i, s := range list {
		if b.add(i, s); b.err != nil {
			return nil, b.dropped, b.err
		}
	}
	return b.build(), b.dropped, nil
}

type setBuilder struct {
	max     int
	seen    map[string]bool
	pats    []origins.Pattern
	list    []string
	dropped int
	samples []Dropped
	err     error
}

// Out of line: configuration code, for the size of cors.wasm.
//
//go:noinline
func (b *setBuilder) drop(i int, v, reason string) {
	b.dropped++
	if len(b.samples) < maxDropSamples {
		if len(v) > 128 {
			v = v[:128]
		}
		b.samples = append(b.samples, Dropped{Index: i, Value: v, Reason: reason})
	}
}

func (b *setBuilder) add(i int, s string) {
	switch s {
	case "*":
		b.drop(i, s, "\"*\" is never taken from a registry")
		return
	case "null":
		b.drop(i, s, "the null origin is never taken from a registry")
		return
	}
	pat, perr := origins.ParsePattern(s)
	if perr != nil {
		b.drop(i, s, perr.Detail)
		return
	}
	if suffix, spans := pat.SpansSites(); spans {
		b.drop(i, s, "admits sites anyone can register under the public suffix "+Quote(suffix))
		return
	}
	c := pat.String()
	if b.seen[c] {
		return
	}
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	b.seen[c] = true
	if len(b.list) == b.max {
		b.err = SetErr("the answer lists more than max_origins (" + itoa(b.max) + ") valid origins")
		return
	}
	b.list = append(b.list, c)
	b.pats = append(b.pats, pat)
}

func (b *setBuilder) build() *OriginSet {
	s := &OriginSet{all: origins.NewSet(), secure: origins.NewSet(), list: b.list}
	for _, p := range b.pats {
		s.all.Add(p)
		if !p.IsInsecure() {
			s.secure.Add(p)
		}
	}
	return s
}

// Sources returns the origin sources, in order.
func (p *Policy) Sources() []OriginSource { return append([]OriginSource(nil), p.sources...) }

// SetOriginSet makes s the current set of source i (nil: none, which
// allows no origin). Decisions in progress see the old set or the new.
func (p *Policy) SetOriginSet(i int, s *OriginSet) {
	if i >= 0 && i < len(p.dyn) {
		p.dyn[i].cur.Store(s)
	}
}

// OriginSetOf returns the current set of source i, or nil.
func (p *Policy) OriginSetOf(i int) *OriginSet {
	if i < 0 || i >= len(p.dyn) {
		return nil
	}
	return p.dyn[i].cur.Load()
}

// ReportInterval returns the seconds between two denied-origins reports
// (report_interval_seconds; 0: no report), and how many origins each names
// per rule (report_top_origins).
func (p *Policy) ReportInterval() (seconds, top int) { return p.reportSeconds, p.reportTop }

// setAllows reports whether set allows origin, parsing it into po only if
// its patterns need it. Precondition: len(origin) <= origins.MaxLength.
func setAllows(set *origins.Set, origin string, po *parsedOrigin) bool {
	if set.ContainsLiteral(origin) {
		return true
	}
	if !set.HasPatterns() {
		return false
	}
	// Few patterns are matched without parsing the origin.
	matched, known := set.MatchPatternRaw(origin)
	if !known {
		o, ok := po.parse(origin)
		matched = ok && set.MatchesPattern(origin, o)
	}
	return matched
}

// allowsDynamic reports whether one of the rule's origin sets, as last
// fetched, allows origin. A set never fetched allows nothing.
func (ru *rule) allowsDynamic(origin string, po *parsedOrigin) bool {
	return ru.setAllowing(origin, po) != nil
}

// setAllowing returns the first of the rule's origin sets that allows
// origin, or nil. Rules with credentials (and without the insecure opt-in)
// look at a set's https origins only, as a static list with an http origin
// would be refused.
func (ru *rule) setAllowing(origin string, po *parsedOrigin) *dynSet {
	for _, ds := range ru.sets {
		s := ds.cur.Load()
		if s == nil {
			continue
		}
		set := s.all
		if ru.secureSets {
			set = s.secure
		}
		if setAllows(set, origin, po) {
			return ds
		}
	}
	return nil
}

// SetAllowing names the origin set that allows origin under the rule of
// d (its candidate, when the candidate decided): "" when the rule's static
// origins allow it, or none does. For corsctl explain.
func (p *Policy) SetAllowing(d *Decision, origin string) string {
	if d.RuleIndex < 0 || d.RuleIndex >= len(p.rules) || len(origin) > origins.MaxLength {
		return ""
	}
	ru := &p.rules[d.RuleIndex]
	if d.CandidateEnforced && ru.cand != nil {
		ru = &ru.cand.rule
	}
	var po parsedOrigin
	if ru.origins != nil && setAllows(ru.origins, origin, &po) {
		return ""
	}
	if ds := ru.setAllowing(origin, &po); ds != nil {
		return p.sources[ds.source].Name
	}
	return ""
}
