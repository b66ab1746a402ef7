package origins

import "strconv"

// parseIPv6 parses the text of an IPv6 address (without brackets), with "::"
// compression and an optional trailing dotted IPv4 part, into its eight
// 16-bit pieces.
//
// [URL §IPv6 parser]: https://url.spec.whatwg.org/#concept-ipv6-parser
func parseIPv6(s string) (pieces [8]uint16, ok bool) {
	n, compress := 0, -1
	i := 0
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		compress, i = 0, 2
		if i == len(s) {
			return pieces, true
		}
	} else if len(s) > 0 && s[0] == ':' {
		return pieces, false
	}
	for i < len(s) {
		if n == 8 {
			return pieces, false
		}
		if s[i] == ':' {
			if compress >= 0 {
				return pieces, false
			}
			i++
			compress = n
			continue
		}
		start := i
		v := 0
		for i < len(s) && i-start < 4 && hexVal(s[i]) >= 0 {
			v = v*16 + hexVal(s[i])
			i++
		}
		if i < len(s) && s[i] == '.' {
			// A trailing IPv4 part fills the last two pieces.
			if n > 6 || !isIPv4(s[start:]) {
				return pieces, false
			}
			var b [4]int
			k, x := 0, 0
			for _, c := range []byte(s[start:] + ".") {
				if c == '.' {
					b[k], k, x = x, k+1, 0
				} else {
					x = x*10 + int(c-'0')
				}
			}
			pieces[n] = uint16(b[0]<<8 | b[1])
			pieces[n+1] = uint16(b[2]<<8 | b[3])
			n += 2
			break
		}
		if i == start {
			return pieces, false
		}
		pieces[n] = uint16(v)
		n++
		if i < len(s) {
			if s[i] != ':' || i+1 == len(s) {
				return pieces, false
			}
			i++
			if s[i] == ':' {
				if compress >= 0 {
					return pieces, false
				}
				compress = n
				i++
			}
		}
	}
	if compress >= 0 {
		if n == 8 {
			return pieces, false
		}
		moved := n - compress
		copy(pieces[8-moved:], pieces[compress:n])
		for j := compress; j < 8-moved; j++ {
			pieces[j] = 0
		}
	} else if n != 8 {
		return pieces, false
	}
	return pieces, true
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// serializeIPv6 writes an address as browsers serialize it in an origin:
// lower-case hex pieces without leading zeros, the first longest run of two
// or more zero pieces compressed to "::", and no dotted IPv4 part.
//
// [URL §IPv6 serializer]: https://url.spec.whatwg.org/#concept-ipv6-serializer
func serializeIPv6(p [8]uint16) string {
	best, bestLen := -1, 1
	for i := 0; i < 8; {
		if p[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && p[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	var b []byte
	for i := 0; i < 8; i++ {
		if i == best {
			if i == 0 {
				b = append(b, ':')
			}
			b = append(b, ':')
			i += bestLen - 1
			continue
		}
		b = strconv.AppendUint(b, uint64(p[i]), 16)
		if i < 7 {
			b = append(b, ':')
		}
	}
	return string(b)
}

// IsIPv6Literal reports whether s is a bracketed IPv6 address, such as
// "[::1]", in any valid spelling.
func IsIPv6Literal(s string) bool {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	_, ok := parseIPv6(s[1 : len(s)-1])
	return ok
}
