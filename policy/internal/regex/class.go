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

// class is a set of runes: ASCII as a 128-bit map, the rest as the sorted,
// disjoint, non-adjacent [lo, hi] pairs of runes at or above 0x80 in
// parser.runes[lo:hi].
type class struct {
	ascii  [2]uint64
	lo, hi int32
}

// The parser builds one class at a time: its ASCII part in p.asc, its other
// ranges as unsorted pairs appended to p.runes from p.mark on.

// begin starts a new class.
func (p *parser) begin() {
	p.asc = [2]uint64{}
	p.mark = len(p.runes)
}

// add adds lo-hi (lo <= hi) to the class being built.
//
//go:noinline
func (p *parser) add(lo, hi rune) {
	for ; lo <= hi && lo < utf8.RuneSelf; lo++ {
		p.asc[lo>>6] |= 1 << (lo & 63)
	}
	if lo <= hi {
		p.runes = append(p.runes, lo, hi)
	}
}

// addLit adds lo-hi, and under (?i) everything that case-folds to it.
// Folding is only implemented for ASCII (and the two non-ASCII runes that
// fold to ASCII), so ranges that need non-ASCII folding are refused.
func (p *parser) addLit(lo, hi rune) bool {
	if !p.fold || lo <= minFold && hi >= maxFold || hi < minFold || lo > maxFold {
		// Not folding, or full or outside the folding range: folding adds nothing.
		p.add(lo, hi)
		return true
	}
	if hi >= utf8.RuneSelf {
		p.err = errFoldNonASCII
		return false
	}
	var a [2]uint64
	for ; lo <= hi; lo++ {
		a[lo>>6] |= 1 << (lo & 63)
	}
	p.addASCII(a, false)
	return true
}

// addASCII adds the ASCII set a, case-folded under (?i) together with the
// non-ASCII runes that fold to it, and negated (after folding, as RE2 does)
// when negated is set.
func (p *parser) addASCII(a [2]uint64, negated bool) {
	var extra [4]rune
	n := 0
	if p.fold {
		// Upper case A-Z is bits 1-26 of word 1, lower case a-z bits 33-58.
		const upper = uint64(1<<26-1) << 1
		w := a[1]
		w |= (w&upper)<<32 | (w>>32)&upper
		a[1] = w
		if w&(1<<('s'-64)) != 0 {
			extra[0], extra[1], n = longS, longS, 2
		}
		if w&(1<<('k'-64)) != 0 {
			extra[n], extra[n+1] = kelvin, kelvin
			n += 2
		}
	}
	if negated {
		a[0], a[1] = ^a[0], ^a[1]
		p.runes = appendComplement(p.runes, extra[:n])
	} else {
		p.runes = append(p.runes, extra[:n]...)
	}
	p.asc[0] |= a[0]
	p.asc[1] |= a[1]
}

// appendComplement appends to dst the complement, within [0x80,
// utf8.MaxRune], of the sorted, merged pairs of ranges r.
//
//go:noinline
func appendComplement(dst, r []rune) []rune {
	next := rune(utf8.RuneSelf)
	for i := 0; i < len(r); i += 2 {
		if r[i] > next {
			dst = append(dst, next, r[i]-1)
		}
		next = r[i+1] + 1
	}
	if next <= maxRune {
		dst = append(dst, next, maxRune)
	}
	return dst
}

// endClass sorts and merges the ranges of the class being built, negates it
// when negated is set, and adds an opClass node for it.
func (p *parser) endClass(negated bool) int32 {
	r := p.runes[p.mark:]
	heapSortPairs(r)
	n := 0 // the merged pairs are r[:n]
	for i := 0; i+1 < len(r); i += 2 {
		lo, hi := r[i], r[i+1]
		if n > 0 && lo <= r[n-1]+1 {
			r[n-1] = max(r[n-1], hi)
			continue
		}
		r[n], r[n+1] = lo, hi
		n += 2
	}
	end := p.mark + n
	p.runes = p.runes[:end]
	if negated {
		p.asc[0], p.asc[1] = ^p.asc[0], ^p.asc[1]
		p.runes = appendComplement(p.runes, p.runes[p.mark:end])
		p.runes = p.runes[:p.mark+copy(p.runes[p.mark:], p.runes[end:])]
	}
	p.classes = append(p.classes, class{ascii: p.asc, lo: int32(p.mark), hi: int32(len(p.runes))})
	return p.push(node{op: opClass, arg: int32(len(p.classes) - 1)})
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
	for i := n / 2; i > 0; {
		i--
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

// addGroup adds an ASCII group given as pairs of bytes, case-folded under
// (?i), and negated (after folding, as RE2 does) when negated is set.
func (p *parser) addGroup(g string, negated bool) {
	var a [2]uint64
	for i := 0; i < len(g); i += 2 {
		for c := g[i]; c <= g[i+1]; c++ {
			a[c>>6] |= 1 << (c & 63)
		}
	}
	p.addASCII(a, negated)
}
