package headers

import "strings"

// Names iterates over the header names of Access-Control-Request-Headers
// values, as a browser or an intermediary may have formatted them: elements
// are separated by commas, surrounded by optional whitespace, possibly empty,
// and possibly split over several header lines.
//
// yield receives each name as it appears (case preserved), and whether it is
// already in lower case, and may stop the
// iteration by returning false. Names reports ok=false when the list is
// malformed or exceeds the limits of this package (see MaxACRHLength);
// hostile input thus costs at most O(MaxACRHLength) work. It reports
// canonical=true when the values are exactly what browsers send: one line of
// lower-case names separated by single commas, without spaces or empty
// elements; such a value can be echoed as it is.
//
// [Fetch §CORS-preflight fetch]: https://fetch.spec.whatwg.org/#cors-preflight-fetch-0
func Names(values []string, yield func(name string, lower bool) bool) (ok, canonical bool) {
	if len(values) == 1 {
		if ok, handled := canonicalNames(values[0], yield); handled {
			return ok, true
		}
	}
	total, elements, empty := 0, 0, 0
	canonical = len(values) == 1
	for _, v := range values {
		total += len(v)
		if total > MaxACRHLength {
			return false, false
		}
		// One pass per value: optional whitespace, a token, optional
		// whitespace, then a comma or the end.
		for i := 0; i <= len(v); i++ {
			lead := i
			for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
				i++
			}
			start, class := i, uint8(0)
			for i < len(v) {
				t := tchars[v[i]]
				if t == 0 {
					break
				}
				class |= t
				i++
			}
			lower := class&upper == 0
			end := i
			for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
				i++
			}
			if i < len(v) && v[i] != ',' {
				return false, false // a byte that is neither token, whitespace nor comma
			}
			if start-lead > MaxOWS || i-end > MaxOWS {
				return false, false
			}
			if start == end {
				canonical = false
				if empty++; empty > MaxEmpty {
					return false, false
				}
				continue
			}
			if start != lead || i != end || !lower {
				canonical = false
			}
			if elements++; elements > MaxElements || end-start > MaxNameLength {
				return false, false
			}
			if !yield(v[start:end], lower) {
				return true, canonical
			}
		}
	}
	return true, canonical
}

// canonicalNames is Names' fast path for the form browsers send: lower-case
// tokens separated by single commas. It reports handled=false, having
// yielded nothing, as soon as the value turns out to be in another form.
func canonicalNames(v string, yield func(name string, lower bool) bool) (ok, handled bool) {
	if !isCanonical(v) {
		return false, false
	}
	for {
		i := strings.IndexByte(v, ',')
		if i < 0 {
			yield(v, true)
			return true, true
		}
		if !yield(v[:i], true) {
			return true, true
		}
		v = v[i+1:]
	}
}

// isCanonical reports whether an Access-Control-Request-Headers line is in
// the form browsers send, within this package's limits: lower-case tokens
// separated by single commas. Names then reports each name between commas,
// in lower case, and canonical=true.
func isCanonical(v string) bool {
	if len(v) > MaxACRHLength || v == "" || v[0] == ',' || v[len(v)-1] == ',' {
		return false
	}
	elements, start := 0, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if tchars[c] == tchar {
			continue // the usual byte: one lookup
		}
		if c != ',' {
			return false // upper case, whitespace or not a token
		}
		if i == start || i-start > MaxNameLength {
			return false
		}
		elements++
		start = i + 1
	}
	elements++
	return elements <= MaxElements && len(v)-start <= MaxNameLength
}

// IsLowerToken reports whether s is a token without upper-case letters: a
// header name as browsers send it in Access-Control-Request-Headers.
func IsLowerToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if tchars[s[i]] != tchar {
			return false
		}
	}
	return s != ""
}
