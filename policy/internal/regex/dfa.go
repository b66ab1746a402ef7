package regex

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
)

// DFA is a deterministic automaton compiled from a Regexp for the texts of a
// small ASCII alphabet, such as serialized origins. Matching costs one
// table lookup per byte, whatever the regex, so that a long hostile text
// against a large regex costs what a short one does against a small one.
// A DFA is immutable after DFA returns.
type DFA struct {
	class  [128]int8 // the class of each alphabet character; -1 for the others
	nclass int
	next   []int32 // next[s*nclass+c]: the state after class c; -1 dead
	accept []bool
}

// ErrTooManyStates is returned by DFA when the automaton would exceed its
// bound on states, or its work budget.
var ErrTooManyStates = errors.New("too many states")

// DFA builds the deterministic automaton of re over alphabet (ASCII
// characters; texts holding any other byte never match), with at most
// maxStates states. work is a budget of word operations, shared by the
// caller across regexes, that bounds the subset construction's time; it is
// decremented.
func (re *Regexp) DFA(alphabet string, maxStates int, work *int) (*DFA, error) {
	d := &DFA{}
	for i := range d.class {
		d.class[i] = -1
	}
	var reps []byte
	for i := 0; i < len(alphabet); i++ {
		c := alphabet[i]
		if c >= 128 || d.class[c] >= 0 {
			continue
		}
		k := -1
		for j, r := range reps {
			if re.SameASCII(r, c) {
				k = j
				break
			}
		}
		if k < 0 {
			k = len(reps)
			reps = append(reps, c)
		}
		d.class[c] = int8(k)
	}
	d.nclass = len(reps)

	n := re.StateLen()
	states := make([]uint64, n, 16*n)
	re.Start(states)
	key := make([]byte, 8*n)
	index := map[string]int32{stateKey(key, states): 0}
	d.accept = append(d.accept, re.Accepts(states))
	next := make([]uint64, n)
	for s := 0; s < len(d.accept); s++ {
		cur := states[s*n : (s+1)*n]
		cost := 1
		for _, x := range cur[:n-1] {
			cost += bits.OnesCount64(x)
		}
		if *work -= cost * n * len(reps); *work < 0 {
			return nil, ErrTooManyStates
		}
		for _, c := range reps {
			cur = states[s*n : (s+1)*n]
			t := int32(-1)
			if re.Step(next, cur, rune(c)) {
				k := stateKey(key, next)
				var ok bool
				if t, ok = index[k]; !ok {
					if len(d.accept) >= maxStates {
						return nil, ErrTooManyStates
					}
					t = int32(len(d.accept))
					index[k] = t
					states = append(states, next...)
					d.accept = append(d.accept, re.Accepts(next))
				}
			}
			d.next = append(d.next, t)
		}
	}
	return d, nil
}

func stateKey(buf []byte, s []uint64) string {
	for i, x := range s {
		binary.LittleEndian.PutUint64(buf[8*i:], x)
	}
	return string(buf)
}

// MatchString reports whether the DFA accepts s.
func (d *DFA) MatchString(s string) bool {
	st := int32(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 128 || d.class[c] < 0 {
			return false
		}
		if st = d.next[int(st)*d.nclass+int(d.class[c])]; st < 0 {
			return false
		}
	}
	return d.accept[st]
}

// Len returns the number of states.
func (d *DFA) Len() int { return len(d.accept) }

// Size returns the bytes of the DFA's tables.
func (d *DFA) Size() int { return 128 + 4*len(d.next) + len(d.accept) }

// String describes the DFA's size.
func (d *DFA) String() string {
	return "DFA of " + strconv.Itoa(len(d.accept)) + " states over " + strconv.Itoa(d.nclass) + " classes"
}

// The DFA is also an automaton to walk, as Regexp is (walk.go), with one
// word of state: the state's number, or dead.
const dfaDead = ^uint64(0)

// StateLen returns 1.
func (d *DFA) StateLen() int { return 1 }

// Start writes the start state into s.
func (d *DFA) Start(s []uint64) { s[0] = 0 }

// Step writes into dst the state after r, and reports whether it is live.
func (d *DFA) Step(dst, src []uint64, r rune) bool {
	st := src[0]
	if st == dfaDead || r >= 128 || d.class[r] < 0 {
		dst[0] = dfaDead
		return false
	}
	t := d.next[int(st)*d.nclass+int(d.class[r])]
	if t < 0 {
		dst[0] = dfaDead
		return false
	}
	dst[0] = uint64(t)
	return true
}

// Accepts reports whether the text read to reach s matches.
func (d *DFA) Accepts(s []uint64) bool { return s[0] != dfaDead && d.accept[s[0]] }

// SameASCII reports whether a and b lead from every state to the same state.
func (d *DFA) SameASCII(a, b byte) bool {
	ca, cb := int8(-1), int8(-1)
	if a < 128 {
		ca = d.class[a]
	}
	if b < 128 {
		cb = d.class[b]
	}
	return ca == cb
}
