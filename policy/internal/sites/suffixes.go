package sites

import "github.com/corsfilter/corsfilter/policy/internal/psl"

// suffixes is an automaton over origins that accepts those whose host lies
// at or under one of the public suffixes listed below a site (a normal rule
// "s3.amazonaws.com": the suffix itself and every host under it), or
// strictly under a wildcard rule's base ("*.compute.amazonaws.com"). Such
// hosts belong to another site than the one above them, whoever owns it.
//
// It reads the scheme and "://" (their form is the valid-origin
// automaton's business), then runs an Aho-Corasick automaton of the
// patterns "." + suffix over "." + host, and decides at the end of the
// host, ignoring one trailing dot. One automaton for hundreds of suffixes
// (561 below amazonaws.com) keeps the search to one pass.
type suffixes struct {
	next    []int32 // next[node*len(hostChars)+c]: the transition on host character c
	normal  []bool  // a normal pattern is a suffix of the node's string
	wildMin []uint8 // the shortest wildcard pattern that is a suffix of it, 0 if none
	used    [2]uint64
}

// hostChars are the characters of a host that the automaton follows.
const hostChars = "abcdefghijklmnopqrstuvwxyz0123456789-_."

var hostIndex = func() (t [128]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(hostChars); i++ {
		t[hostChars[i]] = int8(i)
	}
	return t
}()

// The state is one word.
const (
	nodeBits    = 32
	lenShift    = 32 // length of "." + host read so far, capped at maxLen
	phaseShift  = 40 // 0 scheme, 1 after a '/', 2 host, 3 after the host
	prevBit     = 1 << 42
	lastDotBit  = 1 << 43
	frozenBit   = 1 << 44 // the decision, once the host has ended
	maxLen      = 255
	phaseScheme = 0
	phaseSlash  = 1
	phaseHost   = 2
	phaseAfter  = 3
)

// newSuffixes returns the automaton for the suffixes below site, or nil when
// there are none.
func newSuffixes(site string) *suffixes {
	type pattern struct {
		text     string
		wildcard bool
	}
	var pats []pattern
	psl.Below(site, func(suffix string, wildcard bool) bool {
		pats = append(pats, pattern{"." + suffix, wildcard})
		return true
	})
	if len(pats) == 0 {
		return nil
	}
	n := len(hostChars)
	size := 1
	for _, p := range pats {
		size += len(p.text)
	}
	s := &suffixes{normal: make([]bool, 0, size), wildMin: make([]uint8, 0, size)}
	// The trie: node 0 is the root; goto_ -1 where there is no child.
	goto_ := make([]int32, 0, size*n)
	newNode := func() int32 {
		for range n {
			goto_ = append(goto_, -1)
		}
		s.normal = append(s.normal, false)
		s.wildMin = append(s.wildMin, 0)
		return int32(len(s.normal) - 1)
	}
	newNode()
	for _, p := range pats {
		cur := int32(0)
		for i := 0; i < len(p.text); i++ {
			c := p.text[i]
			s.used[c>>6] |= 1 << (c & 63)
			k := int(cur)*n + int(hostIndex[c])
			if goto_[k] < 0 {
				child := newNode()
				goto_[k] = child
			}
			cur = goto_[k]
		}
		if p.wildcard {
			if l := uint8(min(len(p.text), maxLen)); s.wildMin[cur] == 0 || l < s.wildMin[cur] {
				s.wildMin[cur] = l
			}
		} else {
			s.normal[cur] = true
		}
	}
	// Breadth first: failure links, resolved transitions, and the outputs
	// of the patterns that end at a node's suffixes.
	s.next = make([]int32, len(goto_))
	fail := make([]int32, len(s.normal))
	queue := []int32{0}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for c := range n {
			v := goto_[int(u)*n+c]
			switch {
			case v < 0 && u == 0:
				s.next[c] = 0
			case v < 0:
				s.next[int(u)*n+c] = s.next[int(fail[u])*n+c]
			default:
				s.next[int(u)*n+c] = v
				if u != 0 {
					f := s.next[int(fail[u])*n+c]
					fail[v] = f
					s.normal[v] = s.normal[v] || s.normal[f]
					if w := s.wildMin[f]; w != 0 && (s.wildMin[v] == 0 || w < s.wildMin[v]) {
						s.wildMin[v] = w
					}
				}
				queue = append(queue, v)
			}
		}
	}
	return s
}

func (s *suffixes) StateLen() int { return 1 }

func (s *suffixes) Start(st []uint64) { st[0] = 0 }

// decide reports whether "." + host, read up to node at length l, ends with
// a pattern: any normal one, or a wildcard one with more before it.
func (s *suffixes) decide(node uint64, l uint64) bool {
	w := uint64(s.wildMin[node])
	return s.normal[node] || w != 0 && l > w
}

func (s *suffixes) hostDecision(x uint64) bool {
	if x&lastDotBit != 0 {
		return x&prevBit != 0
	}
	return s.decide(x&(1<<nodeBits-1), x>>lenShift&maxLen)
}

func (s *suffixes) Step(dst, src []uint64, r rune) bool {
	x := src[0]
	switch phase := x >> phaseShift & 3; {
	case phase == phaseScheme && r == '/':
		x = phaseSlash << phaseShift
	case phase == phaseSlash && r == '/':
		// The host starts: read the "." before it.
		x = phaseHost<<phaseShift | 1<<lenShift | uint64(s.next[hostIndex['.']])
	case phase == phaseHost && r == ':':
		x = phaseAfter << phaseShift
		if s.hostDecision(src[0]) {
			x |= frozenBit
		}
	case phase == phaseHost:
		node, l := x&(1<<nodeBits-1), x>>lenShift&maxLen
		next := uint64(0) // a character no host has: nothing matches across it
		if r < 128 && hostIndex[r] >= 0 {
			next = uint64(s.next[int(node)*len(hostChars)+int(hostIndex[r])])
		}
		y := phaseHost<<phaseShift | min(l+1, maxLen)<<lenShift | next
		if r == '.' {
			y |= lastDotBit
			if s.decide(node, l) {
				y |= prevBit
			}
		}
		x = y
	}
	dst[0] = x
	return true
}

func (s *suffixes) Accepts(st []uint64) bool {
	switch x := st[0]; x >> phaseShift & 3 {
	case phaseHost:
		return s.hostDecision(x)
	case phaseAfter:
		return x&frozenBit != 0
	}
	return false
}

// SameASCII: the automaton tells apart the characters of its patterns and
// the structural ones; every other host character is alike, and so is
// every character no host holds.
func (s *suffixes) SameASCII(a, b byte) bool { return s.class(a) == s.class(b) }

func (s *suffixes) class(c byte) int {
	switch {
	case c >= 128:
		return 129
	case c == '/' || c == ':' || c == '.' || s.used[c>>6]&(1<<(c&63)) != 0:
		return int(c)
	case hostIndex[c] >= 0:
		return 128
	}
	return 129
}
