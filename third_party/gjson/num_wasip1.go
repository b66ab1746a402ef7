//go:build wasip1

package gjson

import "math"

// parseNum converts a JSON number for tonum in cors.wasm, which reads every
// number of its configuration from Result.Raw, never from Num. It is exact,
// correctly rounded as strconv.ParseFloat is, on Clinger's fast path: a
// mantissa below 2^53 (every integer up to 9,007,199,254,740,992 among
// them) with a decimal exponent within ±22. Beyond it the result is within
// a few units in the last place. strconv.ParseFloat's correctly rounded
// slow paths and their tables would cost the plugin some 30 KB.
func parseNum(s string) float64 {
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		i, neg = i+1, true
	}
	var mant uint64
	exp, digits := 0, 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		if digits < 19 {
			mant, digits = mant*10+uint64(s[i]-'0'), digits+1
		} else {
			exp++ // a digit beyond what mant holds
		}
		if mant == 0 {
			digits = 0 // leading zeros are not significant
		}
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			if digits < 19 {
				mant, digits, exp = mant*10+uint64(s[i]-'0'), digits+1, exp-1
				if mant == 0 {
					digits = 0
				}
			}
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		e := 0
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			if e < 100000 {
				e = e*10 + int(s[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	f := float64(mant)
	switch {
	case mant < 1<<53 && 0 <= exp && exp <= 22:
		f *= pow10[exp]
	case mant < 1<<53 && -22 <= exp && exp < 0:
		f /= pow10[-exp]
	default:
		f *= math.Pow10(exp)
	}
	if neg {
		f = -f
	}
	return f
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [23]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}
