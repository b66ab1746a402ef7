package regex

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Limits. RE2 itself refuses repetition counts above 1000; the others keep
// the automaton small enough for bit-parallel matching with bounded memory.
const (
	maxRepeat = 1000 // largest {n,m} count, also the limit on nested counts multiplied
	maxStates = 1000 // rune-consuming states after repetitions are expanded
	maxInsts  = 4000 // all automaton instructions after expansion
	maxDepth  = 100  // group nesting
)

var (
	errMissingParen    = errors.New("missing closing )")
	errUnexpectedParen = errors.New("unexpected )")
	errTrailingSlash   = errors.New("trailing backslash at end of expression")
	errInvalidUTF8     = errors.New("invalid UTF-8")
	errTooComplex      = errors.New("too complex")
	errFoldNonASCII    = errors.New("unsupported: (?i) with non-ASCII characters")
	errUnicodeClass    = errors.New(`unsupported: \p{...} unicode classes`)
	errAnyByte         = errors.New(`unsupported: \C any byte`)
	errMultiLine       = errors.New("unsupported: (?m) multi-line mode")
	errUngreedy        = errors.New("unsupported: (?U) ungreedy mode")
)

const errRepeatCount = "repetition count above 1000"

//go:noinline
func errWith(msg, fragment string) error {
	return errors.New(msg + ": `" + fragment + "`")
}

type nodeOp uint8

const (
	opEmpty   nodeOp = iota // matches the empty string
	opClass                 // one rune of class arg
	opBegin                 // ^ or \A: start of text
	opEnd                   // $ or \z: end of text
	opWord                  // \b: ASCII word boundary
	opNoWord                // \B: not an ASCII word boundary
	opCapture               // ( ) around node arg
	opConcat                // kids[arg:arg+n] in sequence
	opAlt                   // any of kids[arg:arg+n]
	opRepeat                // node arg between min and max (-1: unbounded) times
)

// node is the parse tree, shaped like regexp/syntax's so that Anchored
// agrees with it: non-capturing groups dissolve into their parent. Nodes
// live in parser.nodes and refer to each other by index.
type node struct {
	_        [0]func() // incomparable: no equality function in cors.wasm
	op       nodeOp
	braces   bool // opRepeat written as {n,m}, which counts towards maxRepeat
	min, max int32
	arg      int32
	n        int32
}

// Results of the parsing methods that return a node index.
const (
	failed = -1 // p.err is set
	noNode = -2 // a flag setting, which adds no node
)

type parser struct {
	t     string // the rest of the expression
	fold  bool   // (?i)
	dotNL bool   // (?s)
	depth int
	err   error

	nodes   []node
	kids    []int32 // the subs of opConcat and opAlt nodes
	stack   []int32 // the items of the groups being parsed
	classes []class
	runes   []rune // the non-ASCII ranges of all classes
	asc     [2]uint64
	mark    int

	rmin, rmax int32 // the counts of the last repetition operator
}

//go:noinline
func (p *parser) push(n node) int32 {
	p.nodes = append(p.nodes, n)
	return int32(len(p.nodes) - 1)
}

// item pushes n on the stack of items.
//
//go:noinline
func (p *parser) item(n int32) {
	p.stack = append(p.stack, n)
}

//go:noinline
func (p *parser) fail(err error) int32 {
	p.err = err
	return failed
}

// parse parses p.t, which must be valid UTF-8, and returns the root node.
func (p *parser) parse() int32 {
	n := p.alternation()
	if n >= 0 && p.t != "" { // only a ')' stops the top-level alternation early
		return p.fail(errUnexpectedParen)
	}
	return n
}

func (p *parser) alternation() int32 {
	base := len(p.stack)
	for {
		n := p.concatenation()
		if n < 0 {
			return n
		}
		p.item(n)
		if p.t == "" || p.t[0] != '|' {
			break
		}
		p.t = p.t[1:]
	}
	return p.collect(base, opAlt)
}

// collect makes a node of op from the items on the stack from base on, and
// pops them. A concatenation dissolves the concatenations among its items.
func (p *parser) collect(base int, op nodeOp) int32 {
	start := len(p.kids)
	for i := base; i < len(p.stack); i++ {
		src := p.stack[i : i+1]
		if nd := p.nodes[src[0]]; op == opConcat && nd.op == opConcat {
			src = p.kids[nd.arg : nd.arg+nd.n]
		}
		p.kids = append(p.kids, src...)
	}
	p.stack = p.stack[:base]
	switch len(p.kids) - start {
	case 0:
		return p.push(node{op: opEmpty})
	case 1:
		n := p.kids[start]
		p.kids = p.kids[:start]
		return n
	}
	return p.push(node{op: op, arg: int32(start), n: int32(len(p.kids) - start)})
}

func (p *parser) concatenation() int32 {
	base := len(p.stack)
	lastRepeat := "" // the previous token, when it was a repetition operator
	atom := false    // the previous token added an item a repetition may apply to
	for p.t != "" && p.t[0] != '|' && p.t[0] != ')' {
		before := p.t
		if k := p.repetition(); k < 0 {
			return failed
		} else if k > 0 {
			if p.t != "" && p.t[0] == '?' { // non-greedy: same set of matches
				p.t = p.t[1:]
			}
			op := before[:len(before)-len(p.t)]
			if lastRepeat != "" {
				return p.fail(errWith("invalid nested repetition operator", lastRepeat+op))
			}
			if !atom {
				return p.fail(errWith("missing argument to repetition operator", op))
			}
			last := &p.stack[len(p.stack)-1]
			*last = p.push(node{op: opRepeat, braces: k == 2, min: p.rmin, max: p.rmax, arg: *last})
			if k == 2 && (p.rmin >= 2 || p.rmax >= 2) && !p.repeatIsValid(*last, maxRepeat) {
				return p.fail(errWith(errRepeatCount, op))
			}
			lastRepeat = op
			continue
		}
		lastRepeat = ""
		if strings.HasPrefix(p.t, `\Q`) {
			// \Q...\E: literal runes, each a separate item.
			lit, rest, _ := strings.Cut(p.t[2:], `\E`)
			p.t = rest
			atom = lit != ""
			for _, r := range lit {
				p.begin()
				if !p.addLit(r, r) {
					return failed
				}
				p.item(p.endClass(false))
			}
			continue
		}
		n := p.atom()
		if n == failed {
			return n
		}
		if atom = n >= 0; atom {
			p.item(n)
		}
	}
	return p.collect(base, opConcat)
}

// repetition parses a leading *, +, ? or {n}, {n,}, {n,m} into p.rmin and
// p.rmax. It returns 0 when there is none (a { that does not start a
// well-formed count is a literal, as in RE2), 1 for *, + or ?, 2 for a count
// in braces and failed on an error.
func (p *parser) repetition() int {
	min, max := int32(0), int32(-1)
	switch p.t[0] {
	case '*':
	case '+':
		min = 1
	case '?':
		max = 1
	case '{':
		min, max, rest, ok := parseCount(p.t)
		if !ok {
			return 0
		}
		op := p.t[:len(p.t)-len(rest)]
		if min < 0 || min > maxRepeat || max > maxRepeat {
			return int(p.fail(errWith(errRepeatCount, op)))
		}
		if max >= 0 && min > max {
			return int(p.fail(errWith("invalid repeat count", op)))
		}
		p.t = rest
		p.rmin, p.rmax = int32(min), int32(max)
		return 2
	default:
		return 0
	}
	p.t = p.t[1:]
	p.rmin, p.rmax = min, max
	return 1
}

// parseCount parses {min}, {min,} (max -1) or {min,max}; a number too large
// gives min -1.
func parseCount(s string) (min, max int, rest string, ok bool) {
	s = s[1:]
	var ok1 bool
	if min, s, ok1 = parseInt(s); !ok1 || s == "" {
		return 0, 0, "", false
	}
	if s[0] != ',' {
		max = min
	} else {
		s = s[1:]
		if s == "" {
			return 0, 0, "", false
		}
		if s[0] == '}' {
			max = -1
		} else if max, s, ok1 = parseInt(s); !ok1 {
			return 0, 0, "", false
		} else if max < 0 {
			min = -1
		}
	}
	if s == "" || s[0] != '}' {
		return 0, 0, "", false
	}
	return min, max, s[1:], true
}

// parseInt parses a decimal number without leading zeros; too large gives -1.
func parseInt(s string) (n int, rest string, ok bool) {
	if s == "" || s[0] < '0' || s[0] > '9' || len(s) >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9' {
		return 0, "", false
	}
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n >= 1e8 {
			n = -1
		} else if n >= 0 {
			n = n*10 + int(s[i]-'0')
		}
	}
	return n, s[i:], true
}

// repeatIsValid reports whether the nested {n,m} counts of n multiply to at
// most limit, the rule RE2 uses.
func (p *parser) repeatIsValid(n int32, limit int32) bool {
	nd := p.nodes[n]
	switch nd.op {
	case opRepeat:
		if nd.braces {
			m := nd.max
			if m == 0 {
				return true
			}
			if m < 0 {
				m = nd.min
			}
			if m > limit {
				return false
			}
			if m > 0 {
				limit /= m
			}
		}
		fallthrough
	case opCapture:
		return p.repeatIsValid(nd.arg, limit)
	case opConcat, opAlt:
		for _, k := range p.kids[nd.arg : nd.arg+nd.n] {
			if !p.repeatIsValid(k, limit) {
				return false
			}
		}
	}
	return true
}

// atom parses one token that is not a repetition or \Q...\E. It returns
// noNode for a flag setting.
func (p *parser) atom() int32 {
	t := p.t
	p.begin()
	op := opClass
	switch t[0] {
	case '(':
		return p.group()
	case '^':
		op = opBegin
	case '$':
		op = opEnd
	case '.':
		p.t = t[1:]
		p.add(0, maxRune)
		if !p.dotNL {
			p.asc[0] &^= 1 << '\n'
		}
		return p.endClass(false)
	case '[':
		return p.class()
	case '\\':
		if len(t) >= 2 {
			switch t[1] {
			case 'A':
				op = opBegin
			case 'z':
				op = opEnd
			case 'b':
				op = opWord
			case 'B':
				op = opNoWord
			case 'C':
				return p.fail(errAnyByte)
			case 'p', 'P':
				return p.fail(errUnicodeClass)
			}
		}
		if op != opClass {
			p.t = t[1:]
			break
		}
		if p.perlClass() {
			return p.endClass(false)
		}
		fallthrough
	default:
		if r := p.char(); r < 0 || !p.addLit(r, r) {
			return failed
		}
		return p.endClass(false)
	}
	p.t = p.t[1:]
	return p.push(node{op: op})
}

// char parses one rune or single-rune escape at the start of p.t. It
// returns -1 on an error.
func (p *parser) char() rune {
	t := p.t
	if t[0] != '\\' {
		r, size := utf8.DecodeRuneInString(t)
		p.t = t[size:]
		return r
	}
	if len(t) < 2 {
		p.err = errTrailingSlash
		return -1
	}
	c, size := utf8.DecodeRuneInString(t[1:])
	rest := t[1+size:]
	p.t = rest
	switch {
	case c < utf8.RuneSelf && !isAlnum(c):
		return c
	case c >= '0' && c <= '7':
		// Octal: \0 to \7 followed by up to two more octal digits; a single
		// non-zero digit would be a backreference.
		if c != '0' && (rest == "" || rest[0] < '0' || rest[0] > '7') {
			break
		}
		r := c - '0'
		for i := 0; i < 2 && rest != "" && rest[0] >= '0' && rest[0] <= '7'; i++ {
			r = r*8 + rune(rest[0]-'0')
			rest = rest[1:]
		}
		p.t = rest
		return r
	case c == 'x':
		if r := p.hex(rest); r >= 0 {
			if 0xD800 <= r && r <= 0xDFFF {
				// A surrogate is no character: refused, where regexp
				// would match it against U+FFFD.
				p.err = errWith("unsupported: surrogate code point", t[:len(t)-len(p.t)])
				return -1
			}
			return r
		}
		size = min(len(t), 4) - 1
	case c == 'a':
		return '\a'
	case c == 'f':
		return '\f'
	case c == 'n':
		return '\n'
	case c == 'r':
		return '\r'
	case c == 't':
		return '\t'
	case c == 'v':
		return '\v'
	}
	p.err = errWith("invalid escape sequence", t[:1+size])
	return -1
}

// hex parses what follows \x: {hex...} or exactly two hex digits, and sets
// p.t after it. It returns -1 when t does not start with either.
func (p *parser) hex(t string) rune {
	if t == "" {
		return -1
	}
	if t[0] != '{' {
		if len(t) < 2 || unhex(t[0]) < 0 || unhex(t[1]) < 0 {
			return -1
		}
		p.t = t[2:]
		return unhex(t[0])<<4 | unhex(t[1])
	}
	var r rune
	i := 1
	for ; i < len(t) && t[i] != '}'; i++ {
		v := unhex(t[i])
		if v < 0 {
			return -1
		}
		if r = r<<4 | v; r > maxRune {
			return -1
		}
	}
	if i == 1 || i == len(t) {
		return -1
	}
	p.t = t[i+1:]
	return r
}

// group parses a group or a flag setting, starting at its "(".
func (p *parser) group() int32 {
	outerFold, outerDotNL := p.fold, p.dotNL
	capture := true
	t := p.t
	p.t = t[1:]
	if strings.HasPrefix(p.t, "?") {
		k := p.groupPrefix(t)
		if k < 0 {
			return failed
		}
		if k == 2 {
			// The flags last until the end of the enclosing group.
			return noNode
		}
		capture = k == 1
	}
	if p.depth++; p.depth > maxDepth {
		return p.fail(errTooComplex)
	}
	n := p.alternation()
	if n < 0 {
		return n
	}
	if p.t == "" {
		return p.fail(errMissingParen)
	}
	p.t = p.t[1:] // ')'
	p.fold, p.dotNL = outerFold, outerDotNL
	p.depth--
	if capture {
		n = p.push(node{op: opCapture, arg: n})
	}
	return n
}

// groupPrefix parses what follows "(?" in t: a capture name, or flags
// ending in ":" (a non-capturing group) or ")" (a flag setting). It sets
// p.fold and p.dotNL to the new flags and p.t to the text after the prefix,
// and returns 0 for a non-capturing group, 1 for a named capture, 2 for a
// flag setting, and failed on an error.
func (p *parser) groupPrefix(t string) int {
	startsWithP := len(t) > 4 && t[2] == 'P' && t[3] == '<'
	if startsWithP || len(t) > 3 && t[2] == '<' {
		end := strings.IndexByte(t, '>')
		name := ""
		if end > 3 {
			name = t[3:end]
			if startsWithP {
				name = t[4:end]
			}
		}
		if !validCaptureName(name) {
			if end >= 0 {
				t = t[:end+1]
			}
			return int(p.fail(errWith("invalid named capture", t)))
		}
		p.t = t[end+1:]
		return 1
	}
	fold, dotNL := p.fold, p.dotNL
	negated, sawFlag := false, false
	i := 2
	for ; i < len(t); i++ {
		switch c := t[i]; {
		case c == 'm':
			return int(p.fail(errMultiLine))
		case c == 'U':
			return int(p.fail(errUngreedy))
		case c == 'i':
			fold, sawFlag = !negated, true
			continue
		case c == 's':
			dotNL, sawFlag = !negated, true
			continue
		case c == '-' && !negated:
			negated, sawFlag = true, false
			continue
		case (c == ':' || c == ')') && (!negated || sawFlag):
			p.fold, p.dotNL = fold, dotNL
			p.t = t[i+1:]
			return 2 * b2i(c == ')')
		}
		break
	}
	return int(p.fail(errWith("invalid or unsupported Perl syntax", t[:min(i+1, len(t))])))
}

// validCaptureName reports whether name is [A-Za-z0-9_]+.
func validCaptureName(name string) bool {
	if name == "" {
		return false
	}
	for i := range len(name) {
		if c := name[i]; c != '_' && !isAlnum(rune(c)) {
			return false
		}
	}
	return true
}

func isAlnum(c rune) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// perlClass adds a leading \d, \D, \s, \S, \w or \W of p.t to the class
// being built, and reports whether there was one.
func (p *parser) perlClass() bool {
	t := p.t
	if len(t) < 2 || t[0] != '\\' {
		return false
	}
	var g string
	switch t[1] {
	case 'd', 'D':
		g = "09"
	case 's', 'S':
		g = "\t\n\f\r  " // not \v, unlike [[:space:]]
	case 'w', 'W':
		g = "09AZ__az"
	default:
		return false
	}
	p.addGroup(g, t[1] < 'a')
	p.t = t[2:]
	return true
}

//go:noinline
func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}

// class parses a bracketed class starting at its "[", following RE2: a ]
// right after [ or [^ is literal, - is literal where it cannot make a range,
// [:name:] is a POSIX class, and \d, \s, \w and escapes work inside.
func (p *parser) class() int32 {
	whole := p.t
	p.t = p.t[1:]
	negated := false
	if p.t != "" && p.t[0] == '^' {
		negated = true
		p.t = p.t[1:]
	}
	for first := true; p.t == "" || p.t[0] != ']' || first; first = false {
		t := p.t
		if t == "" {
			return p.fail(errWith("missing closing ]", whole))
		}
		if len(t) > 2 && t[0] == '[' && t[1] == ':' {
			if i := strings.Index(t[2:], ":]"); i >= 0 {
				name := t[2 : i+2]
				neg := strings.HasPrefix(name, "^")
				g := posixGroup(strings.TrimPrefix(name, "^"))
				if g == "" {
					return p.fail(errWith("invalid character class range", t[:i+4]))
				}
				p.addGroup(g, neg)
				p.t = t[i+4:]
				continue
			}
		}
		if len(t) >= 2 && t[0] == '\\' && (t[1] == 'p' || t[1] == 'P') {
			return p.fail(errUnicodeClass)
		}
		if p.perlClass() {
			continue
		}
		lo := p.char()
		if lo < 0 {
			return failed
		}
		hi := lo
		if len(p.t) >= 2 && p.t[0] == '-' && p.t[1] != ']' {
			p.t = p.t[1:]
			if hi = p.char(); hi < 0 {
				return failed
			}
			if hi < lo {
				return p.fail(errWith("invalid character class range", t[:len(t)-len(p.t)]))
			}
		}
		if !p.addLit(lo, hi) {
			return failed
		}
	}
	p.t = p.t[1:]
	return p.endClass(negated)
}
