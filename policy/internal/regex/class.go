package regex

import (
	"strings"
	"unicode/utf8"
)

const (
	maxRune = utf8.MaxRune
	// minFold and maxFold bound the runes that take part in Unicode simple case
	// folding (the same bounds as regexp/syntax).
	minFold = 0x41
	maxFold = 0x1e943
	// longS and kelvin are the two non-ASCII runes that fold to ASCII letters:
	// ſ to s and S, K (Kelvin sign) to k and K.
	longS  = 0x17f
	kelvin = 0x212a
)

// class is a set of runes: ASCII as a 128-bit map, the rest as sorted,
// disjoint, non-adjacent [lo, hi] pairs of runes at or above 0x80.
type class struct {
	ascii  [2]uint64
	ranges []rune
	sorted bool // ranges are sorted and merged
}

// add adds lo-hi (lo <= hi) to c.
func (c *class) add(lo, hi rune) {
	for ; lo <= hi && lo < utf8.RuneSelf; lo++ {
		c.ascii[lo>>6] |= 1 << (lo & 63)
	}
	if lo <= hi {
		c.ranges = append(c.ranges, lo, hi)
		c.sorted = false
	}
}

// addFolded adds lo-hi and everything that case-folds to it. Folding is only
// implemented for ASCII (and the two non-ASCII runes that fold to ASCII), so
// ranges that need non-ASCII folding are refused.
func (c *class) addFolded(lo, hi rune) error {
	if lo <= minFold && hi >= maxFold || hi < minFold || lo > maxFold {
		// Full or outside the folding range: folding adds nothing.
		c.add(lo, hi)
		return nil
	}
	if hi >= utf8.RuneSelf && lo <= maxFold {
		return errFoldNonASCII
	}
	var tmp class
	tmp.add(lo, hi)
	tmp.foldASCII()
	c.union(&tmp)
	return nil
}

// foldASCII closes c's ASCII part under simple case folding.
func (c *class) foldASCII() {
	// Upper case A-Z is bits 1-26 of word 1, lower case a-z bits 33-58.
	const upper = uint64(1<<26-1) << 1
	w := c.ascii[1]
	w |= (w&upper)<<32 | (w>>32)&upper
	c.ascii[1] = w
	if w&(1<<('k'-64)) != 0 {
		c.add(kelvin, kelvin)
	}
	if w&(1<<('s'-64)) != 0 {
		c.add(longS, longS)
	}
}

// union adds all of o to c.
func (c *class) union(o *class) {
	c.ascii[0] |= o.ascii[0]
	c.ascii[1] |= o.ascii[1]
	if len(o.ranges) > 0 {
		c.ranges = append(c.ranges, o.ranges...)
		c.sorted = false
	}
}

// negate replaces c by its complement within [0, utf8.MaxRune].
func (c *class) negate() {
	c.clean()
	c.ascii[0], c.ascii[1] = ^c.ascii[0], ^c.ascii[1]
	out := make([]rune, 0, len(c.ranges)+2)
	next := rune(utf8.RuneSelf)
	for i := 0; i < len(c.ranges); i += 2 {
		if c.ranges[i] > next {
			out = append(out, next, c.ranges[i]-1)
		}
		next = c.ranges[i+1] + 1
	}
	if next <= maxRune {
		out = append(out, next, maxRune)
	}
	c.ranges = out
}

// clean sorts and merges c.ranges.
func (c *class) clean() {
	if c.sorted {
		return
	}
	r := c.ranges
	heapSortPairs(r)
	out := r[:0]
	for i := 0; i < len(r); i += 2 {
		lo, hi := r[i], r[i+1]
		if n := len(out); n > 0 && lo <= out[n-1]+1 {
			out[n-1] = max(out[n-1], hi)
			continue
		}
		out = append(out, lo, hi)
	}
	c.ranges = out
	c.sorted = true
}

// inRanges reports whether r lies in one of the sorted pairs of ranges.
func inRanges(ranges []rune, r rune) bool {
	lo, hi := 0, len(ranges)/2
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case r < ranges[2*m]:
			hi = m
		case r > ranges[2*m+1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// heapSortPairs sorts the (lo, hi) pairs of r by lo, in place, in O(n log n)
// whatever the input, without package sort.
func heapSortPairs(r []rune) {
	n := len(r) / 2
	for i := n/2 - 1; i >= 0; i-- {
		siftDown(r, i, n)
	}
	for end := n - 1; end > 0; end-- {
		r[0], r[1], r[2*end], r[2*end+1] = r[2*end], r[2*end+1], r[0], r[1]
		siftDown(r, 0, end)
	}
}

func siftDown(r []rune, root, n int) {
	for {
		child := 2*root + 1
		if child >= n {
			return
		}
		if child+1 < n && r[2*child+2] > r[2*child] {
			child++
		}
		if r[2*root] >= r[2*child] {
			return
		}
		r[2*root], r[2*root+1], r[2*child], r[2*child+1] = r[2*child], r[2*child+1], r[2*root], r[2*root+1]
		root = child
	}
}

// posixClasses lists the POSIX classes RE2 knows, each as ";name=" followed
// by its ASCII ranges as pairs of bytes.
const posixClasses = ";alnum=09AZaz;alpha=AZaz;ascii=\x00\x7f;blank=\t\t  ;cntrl=\x00\x1f\x7f\x7f;digit=09" +
	";graph=!~;lower=az;print= ~;punct=!/:@[`{~;space=\t\r  ;upper=AZ;word=09AZ__az;xdigit=09AFaf;"

// posixGroup returns the ranges of a POSIX class name (between "[:" and ":]",
// without a leading ^) as pairs of bytes, or "" when there is no such class.
func posixGroup(name string) string {
	for i := range len(name) {
		if name[i] < 'a' || name[i] > 'z' {
			return ""
		}
	}
	i := strings.Index(posixClasses, ";"+name+"=")
	if name == "" || i < 0 {
		return ""
	}
	g := posixClasses[i+len(name)+2:]
	return g[:strings.IndexByte(g, ';')]
}

// addGroup adds an ASCII group, case-folded when fold is set, and negated
// (after folding, as RE2 does) when negated is set.
func (c *class) addGroup(g string, negated, fold bool) {
	var tmp class
	for i := 0; i < len(g); i += 2 {
		tmp.add(rune(g[i]), rune(g[i+1]))
	}
	if fold {
		tmp.foldASCII()
	}
	if negated {
		tmp.negate()
	}
	c.union(&tmp)
}
