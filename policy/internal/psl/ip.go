package psl

// isIP reports whether net/netip.ParseAddr accepts s, which
// x/net's PublicSuffix checks first. It follows ParseAddr step by step
// (without linking net/netip into the plugin): the first '.', ':' or '%'
// of s decides between IPv4, IPv6 and failure.
func isIP(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.':
			return isIPv4(s)
		case ':':
			return isIPv6(s)
		case '%':
			return false
		}
	}
	return false
}

// isIPv4 reports whether s is a dotted-quad IPv4 address: four decimal
// fields up to 255, without leading zeros.
func isIPv4(s string) bool {
	val, fields, digits := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			if digits == 1 && val == 0 {
				return false
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return false
			}
		case c == '.':
			if i == 0 || i == len(s)-1 || s[i-1] == '.' || fields == 3 {
				return false
			}
			fields++
			val, digits = 0, 0
		default:
			return false
		}
	}
	return fields == 3
}

// isIPv6 reports whether s is an IPv6 address, with an optional non-empty
// zone after '%' and an optional trailing IPv4 address in place of the last
// two groups.
func isIPv6(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i == len(s)-1 {
				return false
			}
			s = s[:i]
			break
		}
	}
	ellipsis := -1 // byte position of the "::" in the address
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		s = s[2:]
		if len(s) == 0 {
			return true
		}
	}
	i := 0 // bytes of the address parsed
	for i < 16 {
		off, acc := 0, 0
	hex:
		for ; off < len(s); off++ {
			c := s[off]
			switch {
			case '0' <= c && c <= '9':
				acc = acc<<4 + int(c-'0')
			case 'a' <= c && c <= 'f':
				acc = acc<<4 + int(c-'a'+10)
			case 'A' <= c && c <= 'F':
				acc = acc<<4 + int(c-'A'+10)
			default:
				break hex
			}
			if off > 3 || acc > 0xffff {
				return false
			}
		}
		if off == 0 {
			return false
		}
		if off < len(s) && s[off] == '.' {
			// A trailing IPv4 address, which must fill the last 4 bytes.
			if ellipsis < 0 && i != 12 || i+4 > 16 {
				return false
			}
			if !isIPv4(s) {
				return false
			}
			s, i = "", i+4
			break
		}
		i += 2
		s = s[off:]
		if len(s) == 0 {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return false
			}
			ellipsis = i
			s = s[1:]
			if len(s) == 0 {
				break
			}
		}
	}
	if len(s) != 0 {
		return false
	}
	// Fewer than 16 bytes need a "::", which must stand for at least one
	// zero group.
	return i < 16 && ellipsis >= 0 || i == 16 && ellipsis < 0
}
