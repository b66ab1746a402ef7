package headers

// Names iterates over the header names of Access-Control-Request-Headers
// values, as a browser or an intermediary may have formatted them: elements
// are separated by commas, surrounded by optional whitespace, possibly empty,
// and possibly split over several header lines.
//
// yield receives each name as it appears (case preserved) and may stop the
// iteration by returning false. Names reports false when the list is
// malformed or exceeds the limits of this package (see MaxACRHLength);
// hostile input thus costs at most O(MaxACRHLength) work.
//
// [Fetch §CORS-preflight fetch]: https://fetch.spec.whatwg.org/#cors-preflight-fetch-0
func Names(values []string, yield func(name string) bool) bool {
	total, elements, empty := 0, 0, 0
	for _, v := range values {
		total += len(v)
		if total > MaxACRHLength {
			return false
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
				return false
			}
			name := elem[lead:trail]
			if name == "" {
				empty++
				if empty > MaxEmpty {
					return false
				}
				continue
			}
			elements++
			if elements > MaxElements || len(name) > MaxNameLength || !IsToken(name) {
				return false
			}
			if !yield(name) {
				return true
			}
		}
	}
	return true
}
