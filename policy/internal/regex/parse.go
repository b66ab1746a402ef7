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

func errWith(msg, fragment string) error {
	return errors.New(msg + ": `" + fragment + "`")
}

type nodeOp uint8

const (
	opEmpty   nodeOp = iota // matches the empty string
	opClass                 // one rune of cls
	opBegin                 // ^ or \A: start of text
	opEnd                   // $ or \z: end of text
	opWord                  // \b: ASCII word boundary
	opNoWord                // \B: not an ASCII word boundary
	opCapture               // ( ) around subs[0]
	opConcat                // subs in sequence
	opAlt                   // any of subs
	opRepeat                // subs[0] between min and max (-1: unbounded) times
)

// node is the parse tree, shaped like regexp/syntax's so that Anchored
// agrees with it: non-capturing groups dissolve into their parent.
type node struct {
	op       nodeOp
	braces   bool // opRepeat written as {n,m}, which counts towards maxRepeat
	min, max int
	cls      *class
	subs     []*node
}

type parser struct {
	t     string // the rest of the expression
	fold  bool   // (?i)
	dotNL bool   // (?s)
	depth int
}

// parse parses expr, which must be valid UTF-8.
func parse(expr string) (*node, error) {
	p := parser{t: expr}
	n, err := p.alternation()
	if err != nil {
		return nil, err
	}
	if p.t != "" { // only a ')' stops the top-level alternation early
		return nil, errUnexpectedParen
	}
	return n, nil
}

func (p *parser) alternation() (*node, error) {
	var alts []*node
	for {
		n, err := p.concatenation()
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
		if p.t == "" || p.t[0] != '|' {
			break
		}
		p.t = p.t[1:]
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return &node{op: opAlt, subs: alts}, nil
}

func (p *parser) concatenation() (*node, error) {
	var items []*node
	lastRepeat := "" // the previous token, when it was a repetition operator
	atom := false    // the previous token added an item a repetition may apply to
	for p.t != "" && p.t[0] != '|' && p.t[0] != ')' {
		before := p.t
		min, max, braces, ok, err := p.repetition()
		if err != nil {
			return nil, err
		}
		if ok {
			if p.t != "" && p.t[0] == '?' { // non-greedy: same set of matches
				p.t = p.t[1:]
			}
			op := before[:len(before)-len(p.t)]
			if lastRepeat != "" {
				return nil, errWith("invalid nested repetition operator", lastRepeat+op)
			}
			if !atom {
				return nil, errWith("missing argument to repetition operator", op)
			}
			n := &node{op: opRepeat, braces: braces, min: min, max: max, subs: []*node{items[len(items)-1]}}
			if braces && (min >= 2 || max >= 2) && !repeatIsValid(n, maxRepeat) {
				return nil, errWith("repetition count above 1000", op)
			}
			items[len(items)-1] = n
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
				c := &class{}
				if err := p.addLiteral(c, r); err != nil {
					return nil, err
				}
				c.clean()
				items = append(items, &node{op: opClass, cls: c})
			}
			continue
		}
		n, err := p.atom()
		if err != nil {
			return nil, err
		}
		if atom = n != nil; atom {
			items = append(items, n)
		}
	}
	var subs []*node
	for _, n := range items {
		if n.op == opConcat { // a non-capturing group dissolves
			subs = append(subs, n.subs...)
		} else {
			subs = append(subs, n)
		}
	}
	switch len(subs) {
	case 0:
		return &node{op: opEmpty}, nil
	case 1:
		return subs[0], nil
	}
	return &node{op: opConcat, subs: subs}, nil
}

// repetition parses a leading *, +, ? or {n}, {n,}, {n,m}. A { that does not
// start a well-formed count is a literal, as in RE2.
func (p *parser) repetition() (min, max int, braces, ok bool, err error) {
	switch p.t[0] {
	case '*':
		p.t = p.t[1:]
		return 0, -1, false, true, nil
	case '+':
		p.t = p.t[1:]
		return 1, -1, false, true, nil
	case '?':
		p.t = p.t[1:]
		return 0, 1, false, true, nil
	case '{':
		min, max, rest, ok := parseCount(p.t)
		if !ok {
			return 0, 0, false, false, nil
		}
		if min < 0 || min > maxRepeat || max > maxRepeat {
			return 0, 0, false, false, errWith("repetition count above 1000", p.t[:len(p.t)-len(rest)])
		}
		if max >= 0 && min > max {
			return 0, 0, false, false, errWith("invalid repeat count", p.t[:len(p.t)-len(rest)])
		}
		p.t = rest
		return min, max, true, true, nil
	}
	return 0, 0, false, false, nil
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
func repeatIsValid(n *node, limit int) bool {
	if n.op == opRepeat && n.braces {
		m := n.max
		if m == 0 {
			return true
		}
		if m < 0 {
			m = n.min
		}
		if m > limit {
			return false
		}
		if m > 0 {
			limit /= m
		}
	}
	for _, s := range n.subs {
		if !repeatIsValid(s, limit) {
			return false
		}
	}
	return true
}

// atom parses one token that is not a repetition or \Q...\E. It returns
// nil for a flag setting.
func (p *parser) atom() (*node, error) {
	t := p.t
	op := opClass
	c := &class{}
	var err error
	switch t[0] {
	case '(':
		return p.group()
	case '^':
		op = opBegin
	case '$':
		op = opEnd
	case '.':
		p.t = t[1:]
		c.add(0, maxRune)
		if !p.dotNL {
			c.ascii[0] &^= 1 << '\n'
		}
	case '[':
		c, err = p.class()
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
				return nil, errAnyByte
			case 'p', 'P':
				return nil, errUnicodeClass
			}
		}
		if op != opClass {
			p.t = t[2:]
			return &node{op: op}, nil
		}
		if pc, ok := p.perlClass(t); ok {
			c = pc
			p.t = t[2:]
			break
		}
		var r rune
		if r, p.t, err = parseEscape(t); err == nil {
			err = p.addLiteral(c, r)
		}
	default:
		r, size := utf8.DecodeRuneInString(t)
		p.t = t[size:]
		err = p.addLiteral(c, r)
	}
	if err != nil {
		return nil, err
	}
	if op != opClass {
		p.t = t[1:]
		return &node{op: op}, nil
	}
	c.clean()
	return &node{op: opClass, cls: c}, nil
}

// addLiteral adds r to c, with its case variants under (?i).
func (p *parser) addLiteral(c *class, r rune) error {
	if p.fold {
		return c.addFolded(r, r)
	}
	c.add(r, r)
	return nil
}

// group parses a group or a flag setting, starting at its "(".
func (p *parser) group() (*node, error) {
	outerFold, outerDotNL := p.fold, p.dotNL
	capture := true
	t := p.t[1:]
	if strings.HasPrefix(t, "?") {
		var flagsOnly bool
		var err error
		if t, capture, flagsOnly, err = p.groupPrefix(); err != nil {
			return nil, err
		}
		if flagsOnly {
			// The flags last until the end of the enclosing group.
			p.t = t
			return nil, nil
		}
	}
	if p.depth++; p.depth > maxDepth {
		return nil, errTooComplex
	}
	p.t = t
	n, err := p.alternation()
	if err != nil {
		return nil, err
	}
	if p.t == "" {
		return nil, errMissingParen
	}
	p.t = p.t[1:] // ')'
	p.fold, p.dotNL = outerFold, outerDotNL
	p.depth--
	if capture {
		n = &node{op: opCapture, subs: []*node{n}}
	}
	return n, nil
}

// groupPrefix parses what follows "(?": a capture name, or flags ending in
// ":" (a non-capturing group) or ")" (a flag setting, flagsOnly). It sets
// p.fold and p.dotNL to the new flags and returns the text after the prefix.
func (p *parser) groupPrefix() (rest string, capture, flagsOnly bool, err error) {
	t := p.t
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
			return "", false, false, errWith("invalid named capture", t)
		}
		return t[end+1:], true, false, nil
	}
	fold, dotNL := p.fold, p.dotNL
	negated, sawFlag := false, false
	i := 2
	for ; i < len(t); i++ {
		switch c := t[i]; {
		case c == 'm':
			return "", false, false, errMultiLine
		case c == 'U':
			return "", false, false, errUngreedy
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
			return t[i+1:], false, c == ')', nil
		}
		break
	}
	return "", false, false, errWith("invalid or unsupported Perl syntax", t[:min(i+1, len(t))])
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

// perlClass parses a leading \d, \D, \s, \S, \w or \W.
func (p *parser) perlClass(t string) (*class, bool) {
	if len(t) < 2 || t[0] != '\\' {
		return nil, false
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
		return nil, false
	}
	c := &class{}
	c.addGroup(g, t[1] < 'a', p.fold)
	return c, true
}

// parseEscape parses a single-rune escape at the start of t (a backslash).
func parseEscape(t string) (r rune, rest string, err error) {
	if len(t) < 2 {
		return 0, "", errTrailingSlash
	}
	c, size := utf8.DecodeRuneInString(t[1:])
	rest = t[1+size:]
	switch {
	case c < utf8.RuneSelf && !isAlnum(c):
		return c, rest, nil
	case c >= '0' && c <= '7':
		// Octal: \0 to \7 followed by up to two more octal digits; a single
		// non-zero digit would be a backreference.
		if c != '0' && (rest == "" || rest[0] < '0' || rest[0] > '7') {
			break
		}
		r = c - '0'
		for i := 0; i < 2 && rest != "" && rest[0] >= '0' && rest[0] <= '7'; i++ {
			r = r*8 + rune(rest[0]-'0')
			rest = rest[1:]
		}
		return r, rest, nil
	case c == 'x':
		if r, rest, ok := parseHex(rest); ok {
			return r, rest, nil
		}
		return 0, "", errWith("invalid escape sequence", t[:min(len(t), 4)])
	case c == 'a':
		return '\a', rest, nil
	case c == 'f':
		return '\f', rest, nil
	case c == 'n':
		return '\n', rest, nil
	case c == 'r':
		return '\r', rest, nil
	case c == 't':
		return '\t', rest, nil
	case c == 'v':
		return '\v', rest, nil
	}
	return 0, "", errWith("invalid escape sequence", t[:1+size])
}

// parseHex parses what follows \x: {hex...} or exactly two hex digits.
func parseHex(t string) (r rune, rest string, ok bool) {
	if t == "" {
		return 0, "", false
	}
	if t[0] != '{' {
		if len(t) < 2 || unhex(t[0]) < 0 || unhex(t[1]) < 0 {
			return 0, "", false
		}
		return unhex(t[0])<<4 | unhex(t[1]), t[2:], true
	}
	i := 1
	for ; i < len(t) && t[i] != '}'; i++ {
		v := unhex(t[i])
		if v < 0 {
			return 0, "", false
		}
		if r = r<<4 | v; r > maxRune {
			return 0, "", false
		}
	}
	if i == 1 || i == len(t) {
		return 0, "", false
	}
	return r, t[i+1:], true
}

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
func (p *parser) class() (*class, error) {
	whole := p.t
	t := p.t[1:]
	c := &class{}
	negated := false
	if t != "" && t[0] == '^' {
		negated = true
		t = t[1:]
	}
	for first := true; t == "" || t[0] != ']' || first; first = false {
		if t == "" {
			return nil, errWith("missing closing ]", whole)
		}
		if len(t) > 2 && t[0] == '[' && t[1] == ':' {
			if i := strings.Index(t[2:], ":]"); i >= 0 {
				name := t[2 : i+2]
				neg := strings.HasPrefix(name, "^")
				g := posixGroup(strings.TrimPrefix(name, "^"))
				if g == "" {
					return nil, errWith("invalid character class range", t[:i+4])
				}
				c.addGroup(g, neg, p.fold)
				t = t[i+4:]
				continue
			}
		}
		if len(t) >= 2 && t[0] == '\\' && (t[1] == 'p' || t[1] == 'P') {
			return nil, errUnicodeClass
		}
		if pc, ok := p.perlClass(t); ok {
			c.union(pc)
			t = t[2:]
			continue
		}
		rng := t
		lo, rest, err := classChar(t, whole)
		if err != nil {
			return nil, err
		}
		t = rest
		hi := lo
		if len(t) >= 2 && t[0] == '-' && t[1] != ']' {
			if hi, t, err = classChar(t[1:], whole); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, errWith("invalid character class range", rng[:len(rng)-len(t)])
			}
		}
		if p.fold {
			if err := c.addFolded(lo, hi); err != nil {
				return nil, err
			}
		} else {
			c.add(lo, hi)
		}
	}
	p.t = t[1:]
	if negated {
		c.negate()
	}
	return c, nil
}

func classChar(t, whole string) (rune, string, error) {
	if t == "" {
		return 0, "", errWith("missing closing ]", whole)
	}
	if t[0] == '\\' {
		return parseEscape(t)
	}
	r, size := utf8.DecodeRuneInString(t)
	return r, t[size:], nil
}
