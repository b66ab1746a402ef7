package policy

import (
	"github.com/corsfilter/corsfilter/policy/internal/origins"
	"github.com/corsfilter/corsfilter/policy/internal/regex"
	"github.com/corsfilter/corsfilter/policy/internal/sites"
	"github.com/tidwall/gjson"
)

// This file decodes and checks the origin lists, allowed_origins and
// allowed_origin_regexes: each origin on its own when it is decoded, and each
// regex against the proof that it stays within one site once the rule's
// credentials are known (checkOriginRegex, called by compileRule).

// originEntry is one valid allowed_origins element.
type originEntry struct {
	_       noCompare // see noCompare
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
	re    []*regex.DFA // each regex's automaton over origins

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

func (d *decoder) originList(v gjson.Result, path string) *originList {
	l := &originList{path: path, anyAt: -1, nullAt: -1}
	seen := map[string]bool{}
	ok := d.stringList(v, path, true, func(s, p string) {
		e := originEntry{path: p, value: s}
		switch s {
		case "*", "null":
		default:
			pat, perr := origins.ParsePattern(s)
			if perr != nil {
				d.errs.add(p, originProblem(perr.Defect), s, perr.Detail)
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

func originProblem(d origins.Defect) Problem {
	switch d {
	case origins.NonCanonical:
		return ProblemNonCanonical
	case origins.MisplacedWildcard:
		return ProblemWildcard
	case origins.OpaqueScheme:
		return ProblemNullOrigin
	}
	return ProblemInvalidOrigin
}

// maxOriginDFAStates bounds the automaton of one origin regex. Origin
// regexes people write need tens of states; a bounded repetition of an
// optional part (`(?:[a-z.]?){900}`) needs one per count.
const maxOriginDFAStates = 1024

func (d *decoder) regexList(v gjson.Result, path string) *regexList {
	l := &regexList{path: path}
	ok := d.stringList(v, path, true, func(s, p string) {
		re := d.anchoredRegex(s, p)
		if re == nil {
			return
		}
		// Origin regexes match through their automaton over origins, one
		// lookup per byte, so that an Origin costs the same whatever the
		// regex; the regex itself is dropped.
		work := min(d.dfaWork, maxDFAWorkPerRegex)
		spent := work
		dfa, err := re.DFA(origins.Alphabet, maxOriginDFAStates, &work)
		spent -= max(work, 0)
		d.dfaWork -= spent
		switch {
		case err != nil && d.dfaWork <= 0:
			d.errs.add(p, ProblemOverBudget, "", "building the automata of the origin regexes up to here takes more than the configuration's budget: use fewer or simpler regexes")
			return
		case err != nil:
			d.errs.add(p, ProblemTooComplex, s, "its automaton over origins needs more than "+itoa(maxOriginDFAStates)+
				" states (a bounded repetition of an optional part needs one per count): simplify it, or list the origins")
			return
		}
		if d.regexBytes += dfa.Size(); d.regexBytes > maxRegexBytes {
			d.errs.add(p, ProblemOverBudget, "", "the regexes up to here need more than "+itoa(maxRegexBytes>>20)+
				" MiB of automaton tables, the budget that bounds the plugin's memory: use fewer or simpler regexes (later ones were not compiled)")
			return
		}
		l.paths = append(l.paths, p)
		l.src = append(l.src, s)
		l.re = append(l.re, dfa)
	})
	if !ok {
		return nil
	}
	return l
}

// checkOriginRegex reports what the proof of an origin regex found: with
// credentials, anything but containment in one site is an error; without,
// a regex spanning sites is a warning, as "*" would be, and it returns the
// regex so that the caller knows the rule's origins are open.
func (d *decoder) checkOriginRegex(path, src string, res *sites.Result, credentials bool, where func(string) string) (open string) {
	var msg string
	problem := ProblemTooBroad
	switch res.Verdict {
	case sites.Within:
		return ""
	case sites.NoOrigin:
		d.errs.add(path, ProblemInvalidOrigin, src, "matches no origin a browser sends (scheme://host[:port], in lower case, without a path)")
		return ""
	case sites.TooComplex:
		if d.proofs.States <= 0 {
			d.errs.add(path, ProblemOverBudget, "", "proving that the origin regexes up to here stay within one site explores more than "+
				itoa(maxProofStates)+" automaton states, the configuration's budget: use fewer or simpler regexes, or list origins")
			return ""
		}
		problem = ProblemTooComplex
		msg = "cannot be proven to stay within one site: its automaton is too large to explore; simplify it, or list the origins"
	case sites.Insecure:
		d.errs.add(path, ProblemCredentials, src, "matches "+Quote(res.Counterexample)+", a plain-http origin: with allow_credentials any network attacker could read credentialed responses; match https only, or set "+keyAllowInsecure+where(path))
		return ""
	case sites.OtherScheme:
		msg = "matches " + Quote(res.Counterexample) + ", whose scheme is neither https nor that of " + Quote(res.Example)
	case sites.Outside:
		what := res.Site
		if !res.Exact {
			what += " and its subdomains"
		}
		msg = "matches " + Quote(res.Counterexample) + ", which is outside " + res.Site
		if res.Suffix != "" {
			msg += " (" + Quote(res.Suffix) + " is a public suffix: anyone can register a name under it)"
		}
		if credentials {
			msg += "; with allow_credentials an origin regex must stay within one site, here " + what
		}
	}
	if credentials {
		d.errs.add(path, problem, src, msg+where(path))
		return ""
	}
	d.warn(path, Quote(src)+": "+msg+"; it admits sites that anyone can register, as \"*\" does")
	return src
}
