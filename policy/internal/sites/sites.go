// Package sites proves, from the automaton of an origin regex, that every
// origin the regex matches lies within one site: one registrable domain
// (eTLD+1 by the whole Public Suffix List) and its subdomains, or one host,
// with an allowed scheme and any port. Or it finds a counterexample.
//
// The proof is a search, not a test on examples. The regex, an automaton
// of the origins the plugin hands to regexes (valid, see validOrigin), and
// an automaton of "origins within the site" are explored together, one
// character at a time, breadth first, over their deterministic states. The
// site is that of the shortest origin the regex matches; a reachable state
// where the regex and the origin automaton accept and the site automaton
// does not is a counterexample, and the path to it is the shortest one.
// Public suffixes below the site (s3.amazonaws.com below amazonaws.com)
// are searched for the same way. The state space is finite, and the search
// is bounded by a Budget: beyond it, nothing is proven.
package sites

import (
	"encoding/binary"
	"strings"
	"sync"

	"github.com/corsfilter/corsfilter/policy/internal/origins"
	"github.com/corsfilter/corsfilter/policy/internal/psl"
	"github.com/corsfilter/corsfilter/policy/internal/regex"
)

// Verdict is the outcome of a proof.
type Verdict uint8

const (
	// Within: every origin the regex matches lies within Site.
	Within Verdict = iota
	// NoOrigin: the regex matches no origin a browser can send.
	NoOrigin
	// Outside: Counterexample is matched and lies outside Site.
	Outside
	// Insecure: Counterexample is a plain-http origin of Site, and the
	// proof asked for secure schemes.
	Insecure
	// OtherScheme: Counterexample has Site's host but a scheme other than
	// http, https or the scheme of the regex's shortest origin.
	OtherScheme
	// TooComplex: the budget ran out before the proof was complete.
	TooComplex
)

// Result is what a proof found.
type Result struct {
	_       noCompare // see noCompare
	Verdict Verdict
	// Site is the registrable domain of the regex's shortest origin, or its
	// host when Exact.
	Site string
	// Exact: Site is a single host without subdomains (an IP address, or a
	// host that is itself a public suffix).
	Exact bool
	// Example is the shortest origin the regex matches ("" for NoOrigin).
	Example string
	// Counterexample is the shortest origin found outside the proof
	// (Outside, Insecure, OtherScheme).
	Counterexample string
	// Suffix is, for Outside, the public suffix that puts the
	// counterexample in another site than Site, when that is why (a
	// multi-label suffix such as "vercel.app", or a suffix found below
	// Site); "" otherwise.
	Suffix string
}

// Budget bounds the work of the proofs of one configuration, counted in
// automaton states explored, so that no configuration costs more than a
// known amount to load.
type Budget struct {
	States int // states left to explore
}

// maxStates bounds one search, so that the memory it holds is bounded too.
const maxStates = 20000

// Prove decides whether re, the automaton of an anchored regex (its DFA
// over origins.Alphabet), matches only origins within one site. With
// secure, plain http is allowed only for loopback sites (localhost,
// 127.0.0.0/8, [::1]), as for origins with credentials.
func Prove(re Automaton, secure bool, b *Budget) Result {
	valid := validOrigin()
	ex, st := b.search(exampleOrder, []component{{a: re}, {a: valid}})
	switch st {
	case exhausted:
		return Result{Verdict: TooComplex}
	case notFound:
		return Result{Verdict: NoOrigin}
	}
	o, _ := origins.Parse(ex)
	site, exact := origins.Site(strings.TrimSuffix(o.Host, "."))
	res := Result{Site: site, Exact: exact, Example: ex}

	schemes := []string{"https"}
	if !secure || origins.IsLoopback(site) {
		schemes = append(schemes, "http")
	}
	if o.Scheme != "http" && o.Scheme != "https" {
		schemes = append(schemes, o.Scheme)
	}
	quoted := make([]string, len(schemes))
	for i, sc := range schemes {
		quoted[i] = regexQuote(sc)
	}
	within, err := regex.Compile(originRegex(strings.Join(quoted, "|"), hostRegex(site, exact)))
	if err != nil {
		// Site and schemes are made of host and scheme characters; the
		// expression is small. This cannot happen.
		return Result{Verdict: TooComplex}
	}
	cx, st := b.search(counterexampleOrder, []component{{a: re}, {a: valid}, {a: within, negated: true}})
	switch st {
	case exhausted:
		return Result{Verdict: TooComplex}
	case found:
		return res.explain(cx, schemes, secure)
	}
	if exact {
		return res
	}
	// No counterexample outside the domain: look below it, for hosts under
	// a public suffix that lies within it.
	below := newSuffixes(site)
	if below == nil {
		return res
	}
	cx, st = b.search(counterexampleOrder, []component{{a: re}, {a: valid}, {a: below}})
	switch st {
	case exhausted:
		return Result{Verdict: TooComplex}
	case found:
		return res.explain(cx, schemes, secure)
	}
	return res
}

// explain classifies a counterexample.
func (res Result) explain(cx string, schemes []string, secure bool) Result {
	res.Counterexample = cx
	o, _ := origins.Parse(cx)
	host := strings.TrimSuffix(o.Host, ".")
	site, _ := origins.Site(host)
	inSite := site == res.Site && (!res.Exact || host == res.Site)
	switch {
	case inSite && o.Scheme == "http" && secure && !contains(schemes, "http"):
		res.Verdict = Insecure
	case inSite && !contains(schemes, o.Scheme):
		res.Verdict = OtherScheme
	default:
		res.Verdict = Outside
		if _, exact := origins.Site(host); exact && host != res.Site {
			break // an IP address, or a suffix itself: no suffix to name
		}
		if s, _ := psl.PublicSuffix(host); strings.Contains(s, ".") && !origins.IsLoopback(host) {
			res.Suffix = s
		}
	}
	return res
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The automata are regexes in the engine's own syntax, so that every part
// of the proof runs on the same machinery as the plugin's matching.
const (
	schemeClass = `[a-z][a-z0-9+.\-]*`
	labelClass  = `[a-z0-9_\-]+`
	portPart    = `(?::[0-9]{1,5})?`
)

// originRegex returns the regex of origins with one of the schemes and a
// host matching hostExpr, with any port, as origins.Parse accepts them.
func originRegex(schemes, hostExpr string) string {
	return `^(?:` + schemes + `)://(?:` + hostExpr + `)` + portPart + `$`
}

// validOrigin returns the automaton of the strings origins.Parse accepts,
// except for its length limits: exactly the strings the plugin matches
// origin regexes against (and longer ones, which only adds candidates).
// It is compiled on first use, not at start-up.
var validOrigin = sync.OnceValue(func() *regex.Regexp {
	re, _ := regex.Compile(originRegex(schemeClass, `\[[0-9a-f:.]+\]|`+labelClass+`(?:\.`+labelClass+`)*\.?`))
	return re // a constant expression, checked by TestValidOriginAgreesWithParse
})

// hostRegex returns the hosts within a site: the site and its subdomains,
// or only the host itself when exact, with or without a trailing dot.
func hostRegex(site string, exact bool) string {
	if exact {
		return regexQuote(site) + `\.?`
	}
	return `(?:` + labelClass + `\.)*` + regexQuote(site) + `\.?`
}

// regexQuote escapes every character of s that is not a letter or digit.
func regexQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Automaton is what a search needs of an automaton: deterministic states
// of StateLen words, and which ASCII characters it cannot tell apart.
// *regex.Regexp and *regex.DFA are automata.
type Automaton interface {
	StateLen() int
	Start(s []uint64)
	Step(dst, src []uint64, r rune) (live bool)
	Accepts(s []uint64) bool
	SameASCII(a, b byte) bool
}

// component is one automaton of a search; the search looks for a string
// that every component accepts, or, when negated, rejects.
type component struct {
	a       Automaton
	negated bool
}

type status uint8

const (
	found status = iota
	notFound
	exhausted
)

// The characters a valid origin can hold, in the orders searches prefer
// them, so that examples and counterexamples read naturally: the example
// that names the site prefers a dot ("https://app.example.com", not
// "https://appaexample.com"), and counterexamples prefer letters
// ("https://b.vercel.app", not "https://-.vercel.app").
const (
	exampleOrder        = ".abcdefghijklmnopqrstuvwxyz0123456789-:/_[]+"
	counterexampleOrder = "abcdefghijklmnopqrstuvwxyz0123456789-.:/_[]+"
)

// search explores the product of the components breadth first and returns
// the shortest string they all accept (negated ones: reject), choosing
// earlier characters of alphabet first.
func (b *Budget) search(alphabet string, comps []component) (string, status) {
	offs := make([]int, len(comps)+1)
	for i, c := range comps {
		offs[i+1] = offs[i] + c.a.StateLen()
	}
	n := offs[len(comps)]

	// One representative of each class of interchangeable characters.
	var reps []byte
	for i := 0; i < len(alphabet); i++ {
		c, dup := alphabet[i], false
		for _, r := range reps {
			same := true
			for _, cp := range comps {
				same = same && cp.a.SameASCII(r, c)
			}
			if same {
				dup = true
				break
			}
		}
		if !dup {
			reps = append(reps, c)
		}
	}

	states := make([]uint64, n, 64*n)
	parent := []int32{-1}
	char := []byte{0}
	for i, c := range comps {
		c.a.Start(states[offs[i]:offs[i+1]])
	}
	key := make([]byte, 8*n)
	seen := map[string]struct{}{stateKey(key, states[:n]): {}}
	next := make([]uint64, n)
	for head := 0; head < len(parent); head++ {
		if b.States <= 0 || len(parent) > maxStates {
			return "", exhausted
		}
		b.States--
		for _, c := range reps {
			cur := states[head*n : (head+1)*n]
			live := true
			for i, cp := range comps {
				if !cp.a.Step(next[offs[i]:offs[i+1]], cur[offs[i]:offs[i+1]], rune(c)) && !cp.negated {
					live = false
					break
				}
			}
			if !live {
				continue
			}
			k := stateKey(key, next)
			if _, ok := seen[k]; ok {
				continue
			}
			seen[k] = struct{}{}
			states = append(states, next...)
			parent = append(parent, int32(head))
			char = append(char, c)
			if accepts(comps, offs, next) {
				return path(parent, char, len(parent)-1), found
			}
		}
	}
	return "", notFound
}

func accepts(comps []component, offs []int, s []uint64) bool {
	for i, c := range comps {
		if c.a.Accepts(s[offs[i]:offs[i+1]]) == c.negated {
			return false
		}
	}
	return true
}

func stateKey(buf []byte, s []uint64) string {
	for i, x := range s {
		binary.LittleEndian.PutUint64(buf[8*i:], x)
	}
	return string(buf)
}

// path spells the string that leads to node i.
func path(parent []int32, char []byte, i int) string {
	var rev []byte
	for ; parent[i] >= 0; i = int(parent[i]) {
		rev = append(rev, char[i])
	}
	out := make([]byte, len(rev))
	for j, c := range rev {
		out[len(rev)-1-j] = c
	}
	return string(out)
}

// noCompare makes Result incomparable: see policy's noCompare.
type noCompare [0]func()
