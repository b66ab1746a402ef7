package psl

import (
	"strings"
	"sync"
)

//go:generate go run ./internal/gen

// The node flags; internal/gen declares the same values.
const (
	flagNormal    = 1 << iota // X is a rule
	flagException             // !X is a rule
	flagWildcard              // *.X is a rule
	flagICANN                 // x/net's ICANN bit of the node
	numFlags      = iota
)

// node is a node of the trie: a domain, its last label first.
type node struct {
	off   uint32 // its label is text[off : off+n]
	first uint32 // its children are nodes[first:nodes[i+1].first], by label
	n     uint8
	flags uint8
}

// index is the decoded table.
type index struct {
	text  string // the distinct labels, concatenated
	nodes []node // breadth-first, the root first, then a sentinel
}

var (
	once sync.Once
	idx  *index
)

// get returns the index, decoding the table the first time. (Not inlined:
// one copy of the sync.Once call is smaller.)
//
//go:noinline
func get() *index {
	once.Do(func() { idx = decode(table) })
	return idx
}

// The alphabets of table.bin; internal/gen declares the same values.
const (
	labelChars = "-0123456789_abcdefghijklmnopqrstuvwxyz"
	maxPrefix  = 64 // label symbols: prefix lengths [0, maxPrefix), then labelChars
	numBuckets = 24 // number symbols: bit lengths [0, numBuckets)
	maxCodeLen = 15
)

// bitReader reads a bit stream, most significant bit first.
type bitReader struct {
	t   string
	pos int // in bits
}

func (r *bitReader) bit() int {
	b := int(r.t[r.pos>>3]>>(7-r.pos&7)) & 1
	r.pos++
	return b
}

// bits reads an n-bit number.
func (r *bitReader) bits(n int) int {
	v := 0
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

// huffman is a canonical Huffman code: the number of codes of each length
// and the symbols by code.
type huffman struct {
	count [maxCodeLen + 1]int
	syms  []uint8
}

// code reads the 4-bit code lengths of an alphabet of n symbols.
func (r *bitReader) code(n int) *huffman {
	h := new(huffman)
	lens := make([]uint8, n)
	for s := range lens {
		lens[s] = uint8(r.bits(4))
		h.count[lens[s]]++
	}
	for l := uint8(1); l <= maxCodeLen; l++ {
		for s, sl := range lens {
			if sl == l {
				h.syms = append(h.syms, uint8(s))
			}
		}
	}
	return h
}

// symbol reads a symbol coded with h (as zlib's puff does).
func (r *bitReader) symbol(h *huffman) int {
	code, first, index := 0, 0, 0
	for l := 1; l <= maxCodeLen; l++ {
		code |= r.bit()
		if n := h.count[l]; code-first < n {
			return int(h.syms[index+code-first])
		}
		index += h.count[l]
		first = (first + h.count[l]) << 1
		code <<= 1
	}
	panic("psl: corrupt table")
}

// number reads a number: the symbol b of its bit length, then its b-1 bits
// below the leading 1.
func (r *bitReader) number(h *huffman) int {
	b := r.symbol(h)
	if b <= 1 {
		return b
	}
	return 1<<(b-1) | r.bits(b-1)
}

// uvarint reads the unsigned varint at t[*i:] and advances *i past it.
func uvarint(t string, i *int) int {
	v := 0
	for s := 0; ; s += 7 {
		b := t[*i]
		*i++
		v |= int(b&0x7f) << s
		if b < 0x80 {
			return v
		}
	}
}

// decode decodes a table written by internal/gen (see doc.go).
func decode(t string) *index {
	i := 0
	numLabels, labelBytes, numNodes, numTLD := uvarint(t, &i), uvarint(t, &i), uvarint(t, &i), uvarint(t, &i)
	r := &bitReader{t: t, pos: 8 * i}
	labelCode := r.code(maxPrefix + len(labelChars))
	flagsCode := r.code(1 << (numFlags + 1))
	deltaCode, kidsCode := r.code(numBuckets), r.code(numBuckets)

	text := make([]byte, 0, labelBytes)
	offs := make([]uint32, 0, numLabels+1)
	prev := 0
	for len(offs) <= numLabels {
		s := r.symbol(labelCode)
		if s >= maxPrefix {
			text = append(text, labelChars[s-maxPrefix])
			continue
		}
		// A new label, sharing s bytes with the previous.
		offs = append(offs, uint32(len(text)))
		start := len(text)
		text = append(text, text[prev:prev+s]...)
		prev = start
	}

	// The nodes slice is also the breadth-first queue: expanding node q
	// appends its children, whose count node q's first held until then.
	nodes := make([]node, 1, numNodes+2)
	nodes[0].first = uint32(numTLD)
	next := uint32(1)
	for q := 0; q < len(nodes); q++ {
		count := nodes[q].first
		nodes[q].first = next
		next += count
		id := 0
		for range count {
			f := r.symbol(flagsCode)
			id += r.number(deltaCode)
			c := node{off: offs[id], n: uint8(offs[id+1] - offs[id]), flags: uint8(f >> 1)}
			if f&1 != 0 {
				c.first = uint32(r.number(kidsCode))
			}
			nodes = append(nodes, c)
		}
	}
	nodes = append(nodes, node{first: next})
	return &index{text: string(text), nodes: nodes}
}

func (x *index) label(i uint32) string {
	n := &x.nodes[i]
	return x.text[n.off : n.off+uint32(n.n)]
}

// find returns the child of node p labeled label.
func (x *index) find(p uint32, label string) (uint32, bool) {
	lo, hi := x.nodes[p].first, x.nodes[p+1].first
	for lo < hi {
		mid := lo + (hi-lo)/2
		switch s := x.label(mid); {
		case s < label:
			lo = mid + 1
		case s == label:
			return mid, true
		default:
			hi = mid
		}
	}
	return 0, false
}

// Revision returns the date and short git hash of the list's revision, as in
// "2026-02-06 d6c92f1b".
func Revision() string { return revision }

// Len returns the number of rules in the list.
func Len() int { return numRules }

// PublicSuffix returns the public suffix of domain, and whether it is
// ICANN-managed rather than private: exactly what
// golang.org/x/net/publicsuffix.PublicSuffix returns, whose walk of the trie
// this is. A domain no rule matches has its last label as public suffix (the
// default rule "*"); an IP address is its own, not ICANN-managed, public
// suffix. The domain is expected in lower-case ASCII (Punycode), without a
// trailing dot.
func PublicSuffix(domain string) (suffix string, icann bool) {
	if isIP(domain) {
		return domain, false
	}
	x := get()
	p := uint32(0)
	s, at, icannNode, wildcard := domain, len(domain), false, false
loop:
	for {
		dot := strings.LastIndexByte(s, '.')
		if wildcard {
			icann = icannNode
			at = 1 + dot
		}
		c, ok := x.find(p, s[1+dot:])
		if !ok {
			break
		}
		p = c
		f := x.nodes[c].flags
		icannNode = f&flagICANN != 0
		switch {
		case f&flagNormal != 0:
			at = 1 + dot
		case f&flagException != 0:
			at = 1 + len(s)
			break loop
		}
		wildcard = f&flagWildcard != 0
		if !wildcard {
			icann = icannNode
		}
		if dot == -1 {
			break
		}
		s = s[:dot]
	}
	if at == len(domain) {
		// No rule matched: the prevailing rule is "*".
		return domain[1+strings.LastIndexByte(domain, '.'):], icann
	}
	return domain[at:], icann
}

// Registrable returns the registrable domain of domain, its public suffix
// plus one label (eTLD+1), as golang.org/x/net/publicsuffix's
// EffectiveTLDPlusOne does. It returns false, as that function returns an
// error, when domain is itself a public suffix, or starts or ends with a dot
// or has two in a row.
func Registrable(domain string) (string, bool) {
	if strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", false
	}
	suffix, _ := PublicSuffix(domain)
	if len(domain) <= len(suffix) {
		return "", false
	}
	i := len(domain) - len(suffix) - 1
	if domain[i] != '.' {
		return "", false
	}
	return domain[1+strings.LastIndexByte(domain[:i], '.'):], true
}

// IsPublicSuffix reports whether domain is its own public suffix (see
// PublicSuffix): a listed suffix, an unlisted single label, or an IP address.
func IsPublicSuffix(domain string) bool {
	s, _ := PublicSuffix(domain)
	return s == domain
}

// Below calls yield, until it returns false, for the rules under domain that
// cut a registrable domain out of it: each rule X strictly below domain (X
// ends with "."+domain) with wildcard false, and each rule *.X where X is
// domain or strictly below it with suffix X and wildcard true. It leaves out
// exception rules. So when domain is registrable, every host under it has
// domain as its registrable domain except the hosts at or under a suffix
// reported with wildcard false and those strictly under one reported with
// wildcard true. Rules come depth first, in label order.
func Below(domain string, yield func(suffix string, wildcard bool) bool) {
	x := get()
	p := uint32(0)
	for s := domain; ; {
		dot := strings.LastIndexByte(s, '.')
		c, ok := x.find(p, s[1+dot:])
		if !ok {
			return
		}
		p = c
		if dot == -1 {
			break
		}
		s = s[:dot]
	}
	if x.nodes[p].flags&flagWildcard == 0 || yield(domain, true) {
		x.walk(p, domain, func(key string, f uint8) bool {
			return (f&flagNormal == 0 || yield(key, false)) && (f&flagWildcard == 0 || yield(key, true))
		})
	}
}

// All calls yield, until it returns false, for each rule of the list, in PSL
// syntax ("com", "*.ck", "!www.ck"), and whether it is ICANN-managed, depth
// first in label order. Rules of the same domain share x/net's ICANN bit: it
// is false if any of them is private.
func All(yield func(rule string, icann bool) bool) {
	get().walk(0, "", func(key string, f uint8) bool {
		icann := f&flagICANN != 0
		return (f&flagNormal == 0 || yield(key, icann)) &&
			(f&flagException == 0 || yield("!"+key, icann)) &&
			(f&flagWildcard == 0 || yield("*."+key, icann))
	})
}

// walk calls visit, until it returns false, with the domain and flags of each
// node strictly below node p, whose domain is key, depth first.
func (x *index) walk(p uint32, key string, visit func(key string, flags uint8) bool) bool {
	for c := x.nodes[p].first; c < x.nodes[p+1].first; c++ {
		k := x.label(c)
		if key != "" {
			k += "." + key
		}
		if !visit(k, x.nodes[c].flags) || !x.walk(c, k, visit) {
			return false
		}
	}
	return true
}
