// Package topk summarises a stream of strings by its heavy hitters with the
// Space-Saving algorithm (Metwally, Agrawal and El Abbadi, "Efficient
// computation of frequent and top-k elements in data streams", ICDT 2005),
// in storage fixed when the sketch is made: counting allocates nothing, and
// a stream of distinct strings costs what a stream of one does.
package topk

// KeyLen is the number of bytes of a string the sketch keeps: longer
// strings are counted by their first KeyLen bytes.
const KeyLen = 64

type entry struct {
	key   [KeyLen]byte
	n     uint8
	count uint64
	err   uint64 // the count the entry inherited when it replaced another
}

// Sketch counts strings in a fixed number of slots. Any string counted
// more than Total()/slots times is in it, and an entry's count exceeds the
// string's true count by at most its Err. It is not safe for concurrent
// use.
type Sketch struct {
	entries []entry
	used    int
	total   uint64
}

// New returns a sketch of the given number of slots (at least 1).
func New(slots int) *Sketch { return &Sketch{entries: make([]entry, max(slots, 1))} }

// Add counts one occurrence of s.
func (s *Sketch) Add(key string) {
	s.total++
	if len(key) > KeyLen {
		key = key[:KeyLen]
	}
	low := -1
	for i := range s.entries[:s.used] {
		e := &s.entries[i]
		if int(e.n) == len(key) && string(e.key[:e.n]) == key {
			e.count++
			return
		}
		if low < 0 || e.count < s.entries[low].count {
			low = i
		}
	}
	if s.used < len(s.entries) {
		low = s.used
		s.used++
		s.entries[low].count, s.entries[low].err = 0, 0
	} else {
		// Replace the least counted: the newcomer inherits its count,
		// which bounds how much it may be over-counted.
		s.entries[low].err = s.entries[low].count
	}
	e := &s.entries[low]
	e.n = uint8(copy(e.key[:], key))
	e.count++
}

// Item is one entry of the summary.
type Item struct {
	Key   string // at most KeyLen bytes of the string counted
	Count uint64 // an upper bound of its count
	Err   uint64 // Count minus Err is a lower bound
}

// Top appends the k most counted entries to dst, most counted first.
func (s *Sketch) Top(dst []Item, k int) []Item {
	start := len(dst)
	for i := range s.entries[:s.used] {
		e := &s.entries[i]
		dst = append(dst, Item{Key: string(e.key[:e.n]), Count: e.count, Err: e.err})
	}
	// An insertion sort: the slots are few, and the generic sorts of
	// package slices would add 10 KB to cors.wasm.
	top := dst[start:]
	for i := 1; i < len(top); i++ {
		for j := i; j > 0 && top[j].Count > top[j-1].Count; j-- {
			top[j], top[j-1] = top[j-1], top[j]
		}
	}
	if len(dst)-start > k {
		dst = dst[:start+k]
	}
	return dst
}

// Total returns the number of strings counted since the last Reset.
func (s *Sketch) Total() uint64 { return s.total }

// Reset empties the sketch, keeping its storage.
func (s *Sketch) Reset() { s.used, s.total = 0, 0 }
