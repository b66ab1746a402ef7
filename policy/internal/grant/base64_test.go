package grant

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// TestBase64_agreesWithEncodingBase64 checks the plugin's codec against
// encoding/base64's strict decoders on random bytes, their encodings in
// both alphabets, padded and not, and corruptions of them. Unpadded, it
// must decode as the Raw encoding does; with padded, as either the Raw or
// the padded encoding does.
func TestBase64_agreesWithEncodingBase64(t *testing.T) {
	type alpha struct {
		raw, pad *base64.Encoding
		url      bool
	}
	alphas := []alpha{{base64.RawURLEncoding, base64.URLEncoding, true}, {base64.RawStdEncoding, base64.StdEncoding, false}}
	rng := rand.New(rand.NewPCG(3, 4))
	dst := make([]byte, 64)
	decode := func(enc *base64.Encoding, s string) ([]byte, bool) {
		b, err := enc.Strict().DecodeString(s)
		return b, err == nil
	}
	for range 5000 {
		src := make([]byte, rng.IntN(40))
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		if got, want := string(AppendBase64URL(nil, src)), base64.RawURLEncoding.EncodeToString(src); got != want {
			t.Fatalf("AppendBase64URL(%x) = %q; want %q", src, got, want)
		}
		for _, a := range alphas {
			for _, enc := range []*base64.Encoding{a.raw, a.pad} {
				s := enc.EncodeToString(src)
				if rng.IntN(2) == 0 && len(s) > 0 {
					b := []byte(s)
					b[rng.IntN(len(b))] = "A=_-+/\x00.Q"[rng.IntN(9)]
					if rng.IntN(4) == 0 {
						b = b[:len(b)-1]
					}
					s = string(b)
				}
				for _, padded := range []bool{false, true} {
					want, wok := decode(a.raw, s)
					if padded && !wok {
						want, wok = decode(a.pad, s)
					}
					n, ok := DecodeBase64(dst, s, a.url, padded)
					if ok != wok || ok && !bytes.Equal(dst[:n], want) {
						t.Fatalf("DecodeBase64(%q, url %v, padded %v) = %x, %v; encoding/base64 gives %x, %v", s, a.url, padded, dst[:n], ok, want, wok)
					}
				}
			}
		}
	}
	if _, ok := DecodeBase64(make([]byte, 2), "AAAA", true, false); ok {
		t.Fatal("DecodeBase64 wrote past dst")
	}
}
