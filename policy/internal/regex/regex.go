package regex

import (
	"math/bits"
	"unicode/utf8"
)

// Regexp is a compiled regular expression. It is immutable, so it is safe
// for concurrent use.
type Regexp struct {
	expr     string
	anchored bool

	ncons    int // rune-consuming states; bit ncons of a state set is the match state
	words    int // uint64 words per state set
	wordMask int // 1 when the program has \b or \B, else 0: selects follow sets

	// follow[((w*ncons)+i)*words:][:words] is what consuming state i leads
	// to, after its rune, at a position inside the text that is a word
	// boundary (w=1) or not (w=0).
	follow []uint64
	// endAccept[w*words:][:words] holds the consuming states that reach the
	// match state when their rune is the last of the text.
	endAccept []uint64
	// start holds the states the start leads to: at the start of a non-empty
	// text (startBegin+w) and inside it (startMid+w), each words long.
	start      []uint64
	startEmpty bool    // the empty text matches
	startEnd   [2]bool // an empty match at the end of a non-empty text
	startLive  bool    // a match can start after the first position

	ascii    []uint64 // ascii[b*words:][:words]: consuming states accepting byte b < 0x80
	nonASCII []uint64 // consuming states accepting some rune >= 0x80
	// runes[span[2*i]:span[2*i+1]] are the sorted ranges of runes >= 0x80
	// that consuming state i accepts.
	runes []rune
	span  []int32
}

const (
	startBegin = 0
	startMid   = 2
)

// Compile parses an RE2-syntax regular expression in the supported subset
// (see the package tests for the exact syntax) and compiles it. It refuses
// everything package regexp refuses, and also (?m), (?U), \p{...}, \C, and
// (?i) applied to non-ASCII characters.
func Compile(expr string) (*Regexp, error) {
	if !utf8.ValidString(expr) {
		return nil, errInvalidUTF8
	}
	p := &parser{t: expr}
	root := p.parse()
	if root < 0 {
		return nil, p.err
	}
	re := &Regexp{expr: expr, anchored: p.isAnchored(root)}
	if err := re.compile(p, root); err != nil {
		return nil, err
	}
	return re, nil
}

// isAnchored reports whether n, through captures, is a concatenation that
// starts with ^ (or \A) and ends with $ (or \z).
func (p *parser) isAnchored(n int32) bool {
	for p.nodes[n].op == opCapture {
		n = p.nodes[n].arg
	}
	nd := p.nodes[n]
	return nd.op == opConcat &&
		p.nodes[p.kids[nd.arg]].op == opBegin && p.nodes[p.kids[nd.arg+nd.n-1]].op == opEnd
}

// String returns the source text of the expression.
func (re *Regexp) String() string { return re.expr }

// Anchored reports whether the whole expression is anchored at both ends:
// its top level, inside any capturing groups, is a concatenation starting
// with ^ and ending with $. So "^(a|b)$" and "(^a$)" are anchored, "^a|b$"
// is not.
func (re *Regexp) Anchored() bool { return re.anchored }

// MatchString reports whether s contains a match of re, with the result
// package regexp would give: the search is unanchored unless the expression
// uses ^ or $, and each byte of invalid UTF-8 in s reads as U+FFFD. It runs
// in time linear in len(s) and does not allocate for expressions of up to
// 255 rune-consuming states.
func (re *Regexp) MatchString(s string) bool {
	if len(s) == 0 {
		return re.startEmpty
	}
	return re.matchN(s)
}

func decode(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func isWord(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// matchN runs the automaton over s, one rune per step, with the state sets as
// bitsets (on the stack when they fit in four words).
func (re *Regexp) matchN(s string) bool {
	words := re.words
	var buf [8]uint64
	var cur, next []uint64
	if words <= 4 {
		cur, next = buf[:words:words], buf[4:4+words:4+words]
	} else {
		b := make([]uint64, 2*words)
		cur, next = b[:words:words], b[words:]
	}
	mw, mb := re.ncons>>6, uint64(1)<<(re.ncons&63)
	r, n := decode(s, 0)
	copy(cur, re.start[(startBegin+b2i(isWord(r)))*words:])
	for pos := 0; ; {
		if cur[mw]&mb != 0 {
			return true
		}
		if r < utf8.RuneSelf {
			a := re.ascii[int(r)*words:][:words]
			for k := range cur {
				cur[k] &= a[k]
			}
		} else {
			re.filterN(cur, r)
		}
		if pos += n; pos == len(s) {
			w := b2i(isWord(r))
			if re.startEnd[w] {
				return true
			}
			acc := re.endAccept[(w&re.wordMask)*words:][:words]
			for k := range cur {
				if cur[k]&acc[k] != 0 {
					return true
				}
			}
			return false
		}
		r2, n2 := decode(s, pos)
		w := b2i(isWord(r) != isWord(r2))
		copy(next, re.start[(startMid+w)*words:])
		follow := re.follow[(w&re.wordMask)*re.ncons*words:]
		any := false
		for k, x := range cur {
			for ; x != 0; x &= x - 1 {
				f := follow[(k<<6+bits.TrailingZeros64(x))*words:][:words]
				for j := range next {
					next[j] |= f[j]
				}
			}
		}
		for _, x := range next {
			any = any || x != 0
		}
		if !any && !re.startLive {
			return false
		}
		cur, next = next, cur
		r, n = r2, n2
	}
}

// filterN keeps the states of cur that accept the non-ASCII rune r.
func (re *Regexp) filterN(cur []uint64, r rune) {
	for k := range cur {
		var out uint64
		for x := cur[k] & re.nonASCII[k]; x != 0; x &= x - 1 {
			i := bits.TrailingZeros64(x)
			if s := 2 * (k<<6 + i); inRanges(re.runes[re.span[s]:re.span[s+1]], r) {
				out |= 1 << i
			}
		}
		cur[k] = out
	}
}
