package grant

import (
	"crypto/ed25519"
	"crypto/rand"
	stdsha512 "crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// The test vector of docs/grants.md: seed bytes 0x00..0x1f.
func vectorKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

const (
	vectorPublic = "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"
	vectorToken  = "v1.AmsxABhodHRwczovL2N1c3RvbWVyLmV4YW1wbGUAAAAAaSVPQAAAAABpJV1QBGcxMjMAAQZ3aWRnZXQBA1BVVA.UOI2sUWghgqRDZEpXy0beDiE8uyHhzDtI8lWNG_M81gbjwlCSF-nD6ajCLuwzIvjC94ivRKbfkkOtnv8dJ-BAA"
)

// Mint is mint.Grant, which this package cannot import.
func Mint(priv ed25519.PrivateKey, g *Grant) (string, error) {
	input, err := Encode(g)
	if err != nil {
		return "", err
	}
	return Assemble(input, ed25519.Sign(priv, input)), nil
}

func vectorGrant() *Grant {
	return &Grant{KeyID: "k1", Origin: "https://customer.example", IssuedAt: 1764052800, ExpiresAt: 1764056400,
		ID: "g123", Rules: []string{"widget"}, Methods: []string{"PUT"}}
}

func verifier() *Verifier {
	priv := vectorKey()
	k, _ := NewPublicKey(priv.Public().(ed25519.PublicKey))
	return &Verifier{Keys: []Key{{ID: "k1", Public: k}}, MaxTTL: 86400, Skew: 30}
}

func TestVector(t *testing.T) {
	priv := vectorKey()
	if got := base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)); got != vectorPublic {
		t.Errorf("public key %s, want %s", got, vectorPublic)
	}
	tok, err := Mint(priv, vectorGrant())
	if err != nil {
		t.Fatal(err)
	}
	if tok != vectorToken {
		t.Errorf("token\n%s\nwant\n%s", tok, vectorToken)
	}
	g, err := Inspect(tok)
	if err != nil || g.Origin != "https://customer.example" || g.Rules[0] != "widget" || g.Methods[0] != "PUT" || g.ExpiresAt != 1764056400 {
		t.Errorf("Inspect = %+v, %v", g, err)
	}
}

func TestOutcomes(t *testing.T) {
	v := verifier()
	priv := vectorKey()
	_, other, _ := ed25519.GenerateKey(nil)
	mint := func(k ed25519.PrivateKey, edit func(g *Grant)) string {
		g := vectorGrant()
		g.Methods = nil
		if edit != nil {
			edit(g)
		}
		tok, err := Mint(k, g)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := mint(priv, nil)
	v.Revoked = map[string]struct{}{"bad-id": {}}
	want := Want{Origin: "https://customer.example", Rule: "widget", Method: "PUT", Now: 1764052800 + 60}
	flip := []byte(good)
	flip[len(flip)-10] ^= 1 // still base64url, another signature
	if flip[len(flip)-10] == '.' {
		t.Fatal("bad flip")
	}
	for _, tc := range []struct {
		name  string
		token string
		edit  func(w *Want)
		want  Outcome
	}{
		{"valid", good, nil, Admitted},
		{"valid any method", good, func(w *Want) { w.Method = "DELETE" }, Admitted},
		{"empty", "", nil, Malformed},
		{"other version", "v2" + good[2:], nil, Malformed},
		{"truncated", good[:len(good)-1], nil, Malformed},
		{"padded", good + "=", nil, Malformed},
		{"garbage", "v1.!!!." + strings.Repeat("A", 86), nil, Malformed},
		{"too long", "v1." + strings.Repeat("A", MaxToken), nil, Malformed},
		{"unknown key", mint(priv, func(g *Grant) { g.KeyID = "k9" }), nil, UnknownKey},
		{"other signer", mint(other, nil), nil, BadSignature},
		{"flipped signature", string(flip), nil, BadSignature},
		{"revoked", mint(priv, func(g *Grant) { g.ID = "bad-id" }), nil, Revoked},
		{"expired", good, func(w *Want) { w.Now = 1764056400 + 30 }, Expired},
		{"within skew", good, func(w *Want) { w.Now = 1764056400 + 29 }, Admitted},
		{"too long lived", mint(priv, func(g *Grant) { g.ExpiresAt = g.IssuedAt + 86401 }), nil, Expired},
		{"not yet valid", good, func(w *Want) { w.Now = 1764052800 - 31 }, NotYetValid},
		{"origin mismatch", good, func(w *Want) { w.Origin = "https://other.example" }, OriginMismatch},
		{"origin case", good, func(w *Want) { w.Origin = "https://Customer.example" }, OriginMismatch},
		{"other rule", good, func(w *Want) { w.Rule = "api" }, OutOfScope},
		{"other method", mint(priv, func(g *Grant) { g.Methods = []string{"PUT"} }), func(w *Want) { w.Method = "DELETE" }, OutOfScope},
	} {
		w := want
		if tc.edit != nil {
			tc.edit(&w)
		}
		if got, _ := v.Check(tc.token, &w, nil); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	cred := mint(priv, func(g *Grant) { g.Credentials = true })
	if o, c := v.Check(cred, &want, nil); o != Admitted || !c {
		t.Errorf("credentials grant: %v %v", o, c)
	}
	if _, c := v.Check(good, &want, nil); c {
		t.Error("a grant without credentials allows them")
	}
}

func TestMintRefuses(t *testing.T) {
	priv := vectorKey()
	for _, edit := range []func(g *Grant){
		func(g *Grant) { g.Origin = "null" },
		func(g *Grant) { g.Origin = "https://a.example/" },
		func(g *Grant) { g.Origin = "" },
		func(g *Grant) { g.Rules = nil },
		func(g *Grant) { g.ExpiresAt = g.IssuedAt },
		func(g *Grant) { g.ID = "" },
		func(g *Grant) { g.KeyID = strings.Repeat("k", 65) },
		func(g *Grant) { g.Methods = []string{"P T"} },
	} {
		g := vectorGrant()
		edit(g)
		if tok, err := Mint(priv, g); err == nil {
			t.Errorf("minted %+v as %s", g, tok)
		}
	}
}

func TestCheckAllocatesNothing(t *testing.T) {
	v := verifier()
	w := Want{Origin: "https://customer.example", Rule: "widget", Method: "PUT", Now: 1764052900}
	tok, _ := Mint(vectorKey(), vectorGrant())
	if n := testing.AllocsPerRun(100, func() {
		if o, _ := v.Check(tok, &w, nil); o != Admitted {
			t.Fatal(o)
		}
	}); n != 0 {
		t.Errorf("%v allocations per check", n)
	}
}

// BenchmarkCheck: a verification (no cache), a token the cache holds, and
// a forged token once the budget is spent.
func BenchmarkCheck(b *testing.B) {
	v := verifier()
	w := Want{Origin: "https://customer.example", Rule: "widget", Method: "PUT", Now: 1764052900}
	tok, _ := Mint(vectorKey(), vectorGrant())
	_, other, _ := ed25519.GenerateKey(nil)
	forged, _ := Mint(other, vectorGrant())
	for _, bc := range []struct {
		name  string
		tok   string
		cache *Cache
		want  Outcome
	}{
		{"verify", tok, nil, Admitted},
		{"hit", tok, NewCache(1), Admitted},
		{"busy", forged, NewCache(1), Busy},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v.Check(bc.tok, &w, bc.cache) // fill the cache, or spend the budget
			b.ReportAllocs()
			for b.Loop() {
				if o, _ := v.Check(bc.tok, &w, bc.cache); o != bc.want {
					b.Fatal(o)
				}
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	tok, _ := Mint(vectorKey(), vectorGrant())
	f.Add(tok, "https://customer.example", "PUT", int64(1764052900))
	v := verifier()
	c := NewCache(1 << 30)
	f.Fuzz(func(t *testing.T, token, origin, method string, now int64) {
		w := Want{Origin: origin, Rule: "widget", Method: method, Now: now}
		o, cred := v.Check(token, &w, nil)
		// The cache changes no verdict, on a miss or on a hit.
		for range 2 {
			if oc, cc := v.Check(token, &w, c); oc != o || cc != cred {
				t.Fatalf("with the cache: %v %v; without: %v %v", oc, cc, o, cred)
			}
		}
		g, err := Inspect(token)
		if o != Malformed && err != nil {
			t.Fatalf("Check says %v, Inspect refuses: %v", o, err)
		}
		if o == Malformed && err == nil && len(token) <= MaxToken {
			t.Fatalf("Inspect accepts what Check calls malformed")
		}
		if o == Admitted {
			if g.Origin != origin || cred != g.Credentials {
				t.Fatalf("admitted %+v for %q", g, origin)
			}
			// Re-minting what was admitted yields the same payload.
			re, err := Mint(vectorKey(), g)
			if err != nil || re[:strings.LastIndexByte(re, '.')] != token[:strings.LastIndexByte(token, '.')] {
				t.Fatalf("re-mint %q, %v", re, err)
			}
		}
	})
}

func TestSHA512(t *testing.T) {
	data := make([]byte, 600)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for n := 0; n <= len(data); n++ {
		var h sha512
		h.reset()
		// In two writes, split unevenly.
		h.write(data[:n/3])
		h.write(data[n/3 : n])
		var got [64]byte
		h.sum(&got)
		if want := stdsha512.Sum512(data[:n]); got != want {
			t.Fatalf("length %d: %x, want %x", n, got, want)
		}
	}
}

// TestVerifyAgreesWithStandardLibrary checks the verifier against
// crypto/ed25519 on random keys and messages, good and corrupted signatures.
func TestVerifyAgreesWithStandardLibrary(t *testing.T) {
	for i := range 200 {
		pubk, priv, _ := ed25519.GenerateKey(nil)
		msg := make([]byte, i*3)
		_, _ = rand.Read(msg)
		sig := ed25519.Sign(priv, msg)
		k, ok := NewPublicKey(pubk)
		if !ok {
			t.Fatal("key refused")
		}
		for j := range 3 {
			s := [64]byte(sig)
			m := append([]byte(nil), msg...)
			switch j {
			case 1:
				s[i%64] ^= 1 << (i % 8)
			case 2:
				if len(m) > 0 {
					m[i%len(m)] ^= 1
				} else {
					m = []byte{0}
				}
			}
			if got, want := k.verify(m, &s), ed25519.Verify(pubk, m, s[:]); got != want {
				t.Fatalf("case %d/%d: verify %v, crypto/ed25519 %v", i, j, got, want)
			}
		}
	}
}

func TestAppOrigins(t *testing.T) {
	v := verifier()
	for _, o := range []string{
		"chrome-extension://abcdefghijklmnopabcdefghijklmnop",
		"moz-extension://0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
		"safari-web-extension://0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
		"capacitor://localhost",
		"ionic://localhost",
	} {
		g := vectorGrant()
		g.Origin = o
		tok, err := Mint(vectorKey(), g)
		if err != nil {
			t.Errorf("%s: %v", o, err)
			continue
		}
		if got, _ := v.Check(tok, &Want{Origin: o, Rule: "widget", Method: "PUT", Now: g.IssuedAt + 1}, nil); got != Admitted {
			t.Errorf("%s: %v", o, got)
		}
	}
	for _, o := range []string{"chrome-extension://*", "capacitor://*.localhost", "https://*.a.example", "https://a.example:*", "https://A.example", "null", "capacitor://localhost:8080"} {
		g := vectorGrant()
		g.Origin = o
		if _, err := Mint(vectorKey(), g); err == nil {
			t.Errorf("minted a grant for %s", o)
		}
	}
}

// TestDocsCarryTheVector keeps docs/grants.md's test vector true.
func TestDocsCarryTheVector(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/grants.md")
	if err != nil {
		t.Fatal(err)
	}
	input, err := Encode(vectorGrant())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{vectorPublic, vectorToken, hex.EncodeToString(input[len(Prefix):])} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/grants.md lacks %s", want)
		}
	}
}

// TestNewPublicKey_refusesWeakKeys: the identity and the other points of
// small order let anyone sign without a private key; a non-canonical
// encoding is a second name for a key. All are refused at load.
func TestNewPublicKey_refusesWeakKeys(t *testing.T) {
	identity := make([]byte, 32)
	identity[0] = 1
	// The point of order 2: y = -1.
	order2 := []byte{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}
	// y = 1 + p: a non-canonical encoding of the identity.
	nonCanonical := []byte{0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}
	for name, b := range map[string][]byte{"identity": identity, "order 2": order2, "non-canonical": nonCanonical} {
		if _, ok := NewPublicKey(b); ok {
			t.Errorf("NewPublicKey accepted the %s key %x", name, b)
		}
	}
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	if _, ok := NewPublicKey(pub); !ok {
		t.Error("NewPublicKey refused an ordinary key")
	}
}
