package grant

// A base64 codec of our own for the plugin's paths: encoding/base64 costs
// cors.wasm some 12 KB of code and tables for the four lines that need it.
// mint.go, which only corsctl and backends run, keeps encoding/base64, and
// the tests check the two agree.

const (
	urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	stdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// value returns the 6-bit value of c in the URL alphabet (url) or the
// standard one, or -1.
func value(c byte, url bool) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 26
	case '0' <= c && c <= '9':
		return int(c-'0') + 52
	case url && c == '-', !url && c == '+':
		return 62
	case url && c == '_', !url && c == '/':
		return 63
	}
	return -1
}

// DecodeBase64 decodes s into dst, strictly: s is in the URL alphabet (url)
// or the standard one; it is unpadded, or, with padded, may carry exactly
// the padding its length needs; the bits left over in its last character
// are zero, so that every byte string has one encoding. It returns the
// length decoded, and false when s is not such an encoding or dst is too
// short.
func DecodeBase64(dst []byte, s string, url, padded bool) (int, bool) {
	if padded && len(s)%4 == 0 {
		pad := 0
		for pad < 2 && len(s) > 0 && s[len(s)-1] == '=' {
			s, pad = s[:len(s)-1], pad+1
		}
		if pad > 0 && (4-len(s)%4)%4 != pad {
			return 0, false
		}
	}
	if len(s)%4 == 1 || len(s)/4*3+max(len(s)%4-1, 0) > len(dst) {
		return 0, false
	}
	n, acc, bits := 0, 0, 0
	for i := 0; i < len(s); i++ {
		v := value(s[i], url)
		if v < 0 {
			return 0, false
		}
		acc, bits = acc<<6|v, bits+6
		if bits >= 8 {
			bits -= 8
			dst[n] = byte(acc >> bits)
			n++
			acc &= 1<<bits - 1
		}
	}
	if acc != 0 {
		return 0, false // leftover bits must be zero
	}
	return n, true
}

// AppendBase64URL appends src to dst in unpadded base64url.
func AppendBase64URL(dst, src []byte) []byte {
	for len(src) >= 3 {
		v := int(src[0])<<16 | int(src[1])<<8 | int(src[2])
		dst = append(dst, urlAlphabet[v>>18], urlAlphabet[v>>12&63], urlAlphabet[v>>6&63], urlAlphabet[v&63])
		src = src[3:]
	}
	switch len(src) {
	case 2:
		v := int(src[0])<<16 | int(src[1])<<8
		dst = append(dst, urlAlphabet[v>>18], urlAlphabet[v>>12&63], urlAlphabet[v>>6&63])
	case 1:
		v := int(src[0]) << 16
		dst = append(dst, urlAlphabet[v>>18], urlAlphabet[v>>12&63])
	}
	return dst
}
