package headers

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
	total, elements, empty := 0, 0, 0
	canonical = len(values) == 1
	for _, v := range values {
		total += len(v)
		if total > MaxACRHLength {
			return false, false
		}
		start := 0
		for start <= len(v) {
			end := start
			for end < len(v) && v[end] != ',' {
				end++
			}
			elem := v[start:end]
			start = end + 1
			// Trim optional whitespace, at most MaxOWS bytes each side.
			lead := 0
			for lead < len(elem) && (elem[lead] == ' ' || elem[lead] == '\t') {
				lead++
			}
			trail := len(elem)
			for trail > lead && (elem[trail-1] == ' ' || elem[trail-1] == '\t') {
				trail--
			}
			if lead > MaxOWS || len(elem)-trail > MaxOWS {
				return false, false
			}
			name := elem[lead:trail]
			if name == "" {
				canonical = false
				empty++
				if empty > MaxEmpty {
					return false, false
				}
				continue
			}
			if lead != 0 || trail != len(elem) {
				canonical = false
			}
			elements++
			if elements > MaxElements || len(name) > MaxNameLength {
				return false, false
			}
			lower := true
			for i := 0; i < len(name); i++ {
				c := name[i]
				if !tchars[c] {
					return false, false
				}
				if 'A' <= c && c <= 'Z' {
					lower = false
				}
			}
			canonical = canonical && lower
			if !yield(name, lower) {
				return true, canonical
			}
		}
	}
	return true, canonical
}
