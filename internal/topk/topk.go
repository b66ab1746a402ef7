// Package topk summarises a stream of strings by its heavy hitters with the
// Space-Saving algorithm (Metwally, Agrawal and El Abbadi, "Efficient
// computation of frequent and top-k elements in data streams", ICDT 2005),
// in storage fixed when the sketch is made: counting allocates nothing, and
// a stream of distinct strings costs what a stream of one does.
package topk

import (
	"unsafe"

	"github.com/corsfilter/corsfilter/internal/fnv1a"
	"github.com/corsfilter/corsfilter/internal/streq"
)

// KeyLen is the number of bytes of a string the sketch keeps: longer
// strings are counted by their first KeyLen bytes.
const KeyLen = 64

type entry struct {
	_     [0]func() // incomparable: no equality function in cors.wasm
	key   [KeyLen]byte
	n     uint8
	cut   bool  // some string counted here was longer than KeyLen
	pos   int32 // the entry's index in the heap
	hash  uint64
	count uint64
	err   uint64 // the count the entry inherited when it replaced another
}

// Sketch counts strings in a fixed number of slots. Any string counted
// more than Total()/slots times is in it, and an entry's count exceeds the
// string's true count by at most its Err. It is not safe for concurrent
// use.
//
// A hash index finds a string's entry, and a min-heap by count finds the
// entry a new string replaces: a string costs O(log slots) whether it is
// counted already or not, so that a stream of distinct strings, a scanner
// probing with random origins, costs about what a stream of one does.
type Sketch struct {
	entries []entry
	heap    []int32 // entry indices, a min-heap by count
	index   []int32 // open addressing, linear probing: entry index + 1, 0 for free
	total   uint64
}

// New returns a sketch of the given number of slots (at least 1).
func New(slots int) *Sketch {
	slots = max(slots, 1)
	size := 4
	for size < 2*slots {
		size *= 2
	}
	return &Sketch{entries: make([]entry, slots), heap: make([]int32, 0, slots), index: make([]int32, size)}
}

// Add counts one occurrence of s.
func (s *Sketch) Add(key string) {
	s.total++
	cut := len(key) > KeyLen
	if cut {
		key = key[:KeyLen]
	}
	h := fnv1a.String(key)
	mask := uint64(len(s.index) - 1)
	i := h & mask
	for ; s.index[i] != 0; i = (i + 1) & mask {
		e := &s.entries[s.index[i]-1]
		if e.hash == h && int(e.n) == len(key) && streq.Equal(unsafe.String(&e.key[0], e.n), key) {
			e.count++
			e.cut = e.cut || cut
			s.down(int(e.pos))
			return
		}
	}
	var slot int32
	var inherited uint64
	if len(s.heap) < len(s.entries) {
		slot = int32(len(s.heap))
		s.heap = append(s.heap, slot)
		s.entries[slot].pos = slot
	} else {
		// Replace the least counted, at the top of the heap: the newcomer
		// inherits its count, which bounds how much it may be
		// over-counted.
		slot = s.heap[0]
		inherited = s.entries[slot].count
		s.unindex(slot)
		for i = h & mask; s.index[i] != 0; i = (i + 1) & mask {
		}
	}
	e := &s.entries[slot]
	e.n = uint8(copy(e.key[:], key))
	e.hash, e.count, e.err, e.cut = h, inherited+1, inherited, cut
	s.index[i] = slot + 1
	s.up(int(e.pos))
	s.down(int(e.pos))
}

// unindex removes entry slot from the hash index, shifting back the cells
// after it so that lookups never cross a hole.
func (s *Sketch) unindex(slot int32) {
	mask := uint64(len(s.index) - 1)
	i := s.entries[slot].hash & mask
	for s.index[i] != slot+1 {
		i = (i + 1) & mask
	}
	s.index[i] = 0
	for j := (i + 1) & mask; s.index[j] != 0; j = (j + 1) & mask {
		k := s.entries[s.index[j]-1].hash & mask
		// Move j back to the hole i unless its home k lies in (i, j].
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			s.index[i], s.index[j] = s.index[j], 0
			i = j
		}
	}
}

func (s *Sketch) less(a, b int) bool {
	return s.entries[s.heap[a]].count < s.entries[s.heap[b]].count
}

func (s *Sketch) swap(a, b int) {
	s.heap[a], s.heap[b] = s.heap[b], s.heap[a]
	s.entries[s.heap[a]].pos, s.entries[s.heap[b]].pos = int32(a), int32(b)
}

func (s *Sketch) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			return
		}
		s.swap(i, p)
		i = p
	}
}

func (s *Sketch) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(s.heap) {
			return
		}
		if c+1 < len(s.heap) && s.less(c+1, c) {
			c++
		}
		if !s.less(c, i) {
			return
		}
		s.swap(i, c)
		i = c
	}
}

// Item is one entry of the summary.
type Item struct {
	_     [0]func() // incomparable: no equality function in cors.wasm
	Key   string    // at most KeyLen bytes of the string counted
	Count uint64    // an upper bound of its count
	Err   uint64    // Count minus Err is a lower bound
	Cut   bool      // Key is the first KeyLen bytes of a longer string
}

// Top appends the k most counted entries to dst, most counted first.
func (s *Sketch) Top(dst []Item, k int) []Item {
	start := len(dst)
	for i := range s.entries[:len(s.heap)] {
		e := &s.entries[i]
		dst = append(dst, Item{Key: string(e.key[:e.n]), Count: e.count, Err: e.err, Cut: e.cut})
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
func (s *Sketch) Reset() { s.heap, s.total = s.heap[:0], 0; clear(s.index) }
