package regex

import (
	"math/bits"
	"unicode/utf8"
)

// This file exposes the automaton deterministically, one rune at a time, so
// that a caller can explore the language a regex matches (policy proves that
// an origin regex stays within one site this way). It mirrors matchN
// exactly: a state is the set of consuming states that accepted the last
// rune, plus whether a rune was read and whether that rune was a word
// character. Walking a text from Start and asking Accepts gives the same
// answer as MatchString.

// flag bits in the last word of a state.
const (
	walkStarted = 1 << iota // at least one rune was read
	walkWord                // the last rune read was a word character
	walkMatched             // a match ended before the last rune: MatchString is true whatever follows
)

// StateLen returns the number of words of a state of re.
func (re *Regexp) StateLen() int { return re.words + 1 }

// Start writes the state before any rune into s (StateLen words long).
func (re *Regexp) Start(s []uint64) { clear(s[:re.words+1]) }

// Step writes into dst the state after reading r in state src. It reports
// whether dst is live: whether some continuation of the text could still
// match. dst and src must not overlap.
func (re *Regexp) Step(dst, src []uint64, r rune) bool {
	words := re.words
	next, flags := dst[:words:words], src[words]
	word := isWord(r)
	if flags&walkMatched != 0 {
		copy(dst, src[:words+1])
		return true
	}
	if flags&walkStarted == 0 {
		copy(next, re.start[(startBegin+b2i(word))*words:][:words])
	} else {
		w := b2i(flags&walkWord != 0 != word)
		copy(next, re.start[(startMid+w)*words:][:words])
		follow := re.follow[(w&re.wordMask)*re.ncons*words:]
		for k, x := range src[:words] {
			for ; x != 0; x &= x - 1 {
				f := follow[(k<<6+bits.TrailingZeros64(x))*words:][:words]
				for j := range next {
					next[j] |= f[j]
				}
			}
		}
	}
	matched := next[re.ncons>>6]&(1<<(re.ncons&63)) != 0
	if r < utf8.RuneSelf {
		a := re.ascii[int(r)*words:][:words]
		for k := range next {
			next[k] &= a[k]
		}
	} else {
		re.filterN(next, r)
	}
	dst[words] = walkStarted
	if word {
		dst[words] |= walkWord
	}
	if matched {
		dst[words] |= walkMatched
		return true
	}
	if re.startLive {
		return true
	}
	for _, x := range next {
		if x != 0 {
			return true
		}
	}
	return false
}

// Accepts reports whether the text read to reach s matches.
func (re *Regexp) Accepts(s []uint64) bool {
	words := re.words
	flags := s[words]
	if flags&walkStarted == 0 {
		return re.startEmpty
	}
	if flags&walkMatched != 0 {
		return true
	}
	w := b2i(flags&walkWord != 0)
	if re.startEnd[w] {
		return true
	}
	acc := re.endAccept[(w&re.wordMask)*words:][:words]
	for k, x := range s[:words] {
		if x&acc[k] != 0 {
			return true
		}
	}
	return false
}

// SameASCII reports whether the ASCII characters a and b are
// interchangeable in every state: the same consuming states accept them and
// both or neither are word characters. Exploring one of them then stands
// for both.
func (re *Regexp) SameASCII(a, b byte) bool {
	if isWord(rune(a)) != isWord(rune(b)) {
		return false
	}
	words := re.words
	ca, cb := re.ascii[int(a)*words:][:words], re.ascii[int(b)*words:][:words]
	for k := range ca {
		if ca[k] != cb[k] {
			return false
		}
	}
	return true
}

// Size returns the bytes of the compiled automaton's tables, the measure of
// the memory a compiled regex holds.
func (re *Regexp) Size() int {
	return 8*(len(re.follow)+len(re.endAccept)+len(re.start)+len(re.ascii)+len(re.nonASCII)) +
		4*(len(re.runes)+len(re.span))
}
