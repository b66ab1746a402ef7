package grant

import (
	"crypto/ed25519"
	"strings"
	"testing"
)

// forge returns tok with another signature: still well formed, and every
// claim kept.
func forge(t *testing.T, tok string) string {
	t.Helper()
	b := []byte(tok)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestCheckOrder: every cheap check runs before the signature is verified.
// A forged token failing any of them gets that check's outcome, takes
// nothing from the budget, and is refused so even when the budget is
// spent; when it fails several, the first in the order of Check is the
// outcome.
func TestCheckOrder(t *testing.T) {
	v := verifier()
	v.Revoked = map[string]struct{}{"bad-id": {}}
	priv := vectorKey()
	mint := func(edit func(g *Grant)) string {
		g := vectorGrant()
		if edit != nil {
			edit(g)
		}
		tok, err := Mint(priv, g)
		if err != nil {
			t.Fatal(err)
		}
		return forge(t, tok)
	}
	want := Want{Origin: "https://customer.example", Rule: "widget", Method: "PUT", Now: 1764052800 + 60}
	expired := func(w *Want) { w.Now = 1764056400 + 30 }
	other := func(w *Want) { w.Origin = "https://other.example" }
	for _, tc := range []struct {
		name string
		edit func(g *Grant)
		req  func(w *Want)
		want Outcome
	}{
		{"unknown key", func(g *Grant) { g.KeyID = "k9" }, nil, UnknownKey},
		{"origin mismatch", nil, other, OriginMismatch},
		{"out of scope: rule", func(g *Grant) { g.Rules = []string{"api"} }, nil, OutOfScope},
		{"out of scope: method", nil, func(w *Want) { w.Method = "DELETE" }, OutOfScope},
		{"expired", nil, expired, Expired},
		{"too long lived", func(g *Grant) { g.ExpiresAt = g.IssuedAt + 86401 }, nil, Expired},
		{"not yet valid", nil, func(w *Want) { w.Now = 1764052800 - 31 }, NotYetValid},
		{"revoked", func(g *Grant) { g.ID = "bad-id" }, nil, Revoked},
		// Precedence: the first failing check in that order.
		{"unknown key, other origin", func(g *Grant) { g.KeyID = "k9" }, other, UnknownKey},
		{"other origin, out of scope, expired", func(g *Grant) { g.Rules = []string{"api"} }, func(w *Want) { other(w); expired(w) }, OriginMismatch},
		{"out of scope, expired", func(g *Grant) { g.Rules = []string{"api"} }, expired, OutOfScope},
		{"expired, revoked", func(g *Grant) { g.ID = "bad-id" }, expired, Expired},
		{"only the signature", nil, nil, BadSignature},
	} {
		w := want
		if tc.req != nil {
			tc.req(&w)
		}
		tok := mint(tc.edit)
		c := NewCache(1)
		if got, _ := v.Check(tok, &w, c); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if spent := c.spent; spent != 0 && tc.want != BadSignature || spent != 1 && tc.want == BadSignature {
			t.Errorf("%s: %d verifications", tc.name, spent)
		}
		// With the budget spent, the cheap refusals hold; only what would
		// be verified is busy.
		if tc.want == BadSignature {
			tc.want = Busy
		}
		if got, _ := v.Check(tok, &w, c); got != tc.want {
			t.Errorf("%s, budget spent: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// used returns how many slots of c hold a token.
func used(c *Cache) int {
	n := 0
	for i := range c.slots {
		if c.slots[i].key != nil {
			n++
		}
	}
	return n
}

func TestCache_hit(t *testing.T) {
	v := verifier()
	c := NewCache(1)
	tok, _ := Mint(vectorKey(), vectorGrant())
	w := Want{Origin: "https://customer.example", Rule: "widget", Method: "PUT", Now: 1764052900}
	if o, _ := v.Check(tok, &w, c); o != Admitted || c.spent != 1 || used(c) != 1 {
		t.Fatalf("first check: %v, %d verified, %d cached", o, c.spent, used(c))
	}
	// The budget of this second is spent: the cached token still passes,
	// an unseen one, good or forged, is busy.
	for range 5 {
		if o, _ := v.Check(tok, &w, c); o != Admitted {
			t.Fatalf("cached token: %v", o)
		}
	}
	g := vectorGrant()
	g.ID = "g124"
	fresh, _ := Mint(vectorKey(), g)
	if o, _ := v.Check(fresh, &w, c); o != Busy {
		t.Errorf("unseen good token, budget spent: %v", o)
	}
	if o, _ := v.Check(forge(t, tok), &w, c); o != Busy {
		t.Errorf("forged token, budget spent: %v", o)
	}
	// The cheap checks still run on a hit.
	other := w
	other.Origin = "https://other.example"
	if o, _ := v.Check(tok, &other, c); o != OriginMismatch {
		t.Errorf("cached token from another origin: %v", o)
	}
	v.Revoked = map[string]struct{}{"g123": {}}
	if o, _ := v.Check(tok, &w, c); o != Revoked {
		t.Errorf("cached token, revoked: %v", o)
	}
	v.Revoked = nil
	// Next second: a new budget.
	w.Now++
	if o, _ := v.Check(fresh, &w, c); o != Admitted || c.spent != 1 {
		t.Errorf("next second: %v, %d verified", o, c.spent)
	}
	if n := testing.AllocsPerRun(100, func() { v.Check(tok, &w, c) }); n != 0 {
		t.Errorf("a hit allocates %v times", n)
	}
}

// A token is verified by one key: a rule whose key of the same id is
// another never takes it from the cache.
func TestCache_bindsKey(t *testing.T) {
	a := verifier()
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	k, _ := NewPublicKey(otherPriv.Public().(ed25519.PublicKey))
	b := &Verifier{Keys: []Key{{ID: "k1", Public: k}}, MaxTTL: 86400, Skew: 30}
	c := NewCache(100)
	tok, _ := Mint(vectorKey(), vectorGrant())
	w := Want{Origin: "https://customer.example", Rule: "widget", Method: "PUT", Now: 1764052900}
	if o, _ := a.Check(tok, &w, c); o != Admitted {
		t.Fatal(o)
	}
	if o, _ := b.Check(tok, &w, c); o != BadSignature {
		t.Errorf("another key of the same id: %v", o)
	}
}

func TestCache_expiry(t *testing.T) {
	v := verifier() // skew 30
	c := NewCache(100)
	tok, _ := Mint(vectorKey(), vectorGrant()) // expires 1764056400
	w := Want{Origin: "https://customer.example", Rule: "widget", Method: "PUT", Now: 1764056400 + 29}
	if o, _ := v.Check(tok, &w, c); o != Admitted {
		t.Fatal(o)
	}
	set, hit := c.lookup(tok, v.Keys[0].Public, sigOf(t, tok), w.Now)
	if !hit {
		t.Fatal("not cached")
	}
	if _, hit := c.lookup(tok, v.Keys[0].Public, sigOf(t, tok), w.Now+1); hit {
		t.Error("the cache holds a token past its expiry + skew")
	}
	w.Now++
	if o, _ := v.Check(tok, &w, c); o != Expired {
		t.Errorf("cached token past expiry: %v", o)
	}
	// The expired entry's slot is the first one taken.
	g := vectorGrant()
	g.IssuedAt, g.ExpiresAt = w.Now, w.Now+60
	for i := 0; ; i++ {
		g.ID = "n" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		next, _ := Mint(vectorKey(), g)
		s, _ := c.lookup(next, v.Keys[0].Public, sigOf(t, next), w.Now)
		if &s[0] != &set[0] {
			continue
		}
		if o, _ := v.Check(next, &w, c); o != Admitted {
			t.Fatal(o)
		}
		if used(c) != 1 {
			t.Errorf("%d slots used; want the expired one replaced", used(c))
		}
		break
	}
}

func sigOf(t *testing.T, tok string) *[64]byte {
	var sig [64]byte
	if _, ok := decode(sig[:], tok[strings.LastIndexByte(tok, '.')+1:]); !ok {
		t.Fatal("bad signature encoding")
	}
	return &sig
}

// Failures are never cached: a forged token is verified (and refused)
// each time it comes, within the budget.
func TestCache_noFailures(t *testing.T) {
	v := verifier()
	_, other, _ := ed25519.GenerateKey(nil)
	c := NewCache(1000)
	bad, _ := Mint(other, vectorGrant())
	w := Want{Origin: "https://customer.example", Rule: "widget", Method: "PUT", Now: 1764052900}
	for i := 1; i <= 3; i++ {
		if o, _ := v.Check(bad, &w, c); o != BadSignature || c.spent != i {
			t.Fatalf("forged token, time %d: %v, %d verified", i, o, c.spent)
		}
	}
	if used(c) != 0 {
		t.Errorf("%d slots used by a forged token", used(c))
	}
}

// The budget: perSecond verifications in a second, the rest busy; a new
// second, a new budget.
func TestCache_budget(t *testing.T) {
	v := verifier()
	_, other, _ := ed25519.GenerateKey(nil)
	c := NewCache(3)
	bad, _ := Mint(other, vectorGrant())
	w := Want{Origin: "https://customer.example", Rule: "widget", Method: "PUT", Now: 1764052900}
	count := func() (verified, busy int) {
		for range 10 {
			switch o, _ := v.Check(bad, &w, c); o {
			case BadSignature:
				verified++
			case Busy:
				busy++
			default:
				t.Fatalf("forged token: %v", o)
			}
		}
		return
	}
	for range 3 {
		if verified, busy := count(); verified != 3 || busy != 7 {
			t.Errorf("second %d: %d verified, %d busy; want 3 and 7", w.Now, verified, busy)
		}
		w.Now++
	}
	// A nil Cache: no budget.
	for range 10 {
		if o, _ := v.Check(bad, &w, nil); o != BadSignature {
			t.Fatalf("no cache: %v", o)
		}
	}
}

// Past the table's size, tokens are evicted, and verified again: never
// refused for it, within the budget.
func TestCache_eviction(t *testing.T) {
	v := verifier()
	c := NewCache(1 << 20)
	w := Want{Origin: "https://customer.example", Rule: "widget", Method: "PUT", Now: 1764052900}
	var toks []string
	for i := range CacheSize + CacheSize/2 {
		g := vectorGrant()
		g.ID = "g" + strings.Repeat("x", i%60) + string(rune('A'+i/60))
		tok, err := Mint(vectorKey(), g)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	for range 2 {
		for _, tok := range toks {
			if o, _ := v.Check(tok, &w, c); o != Admitted {
				t.Fatal(o)
			}
		}
	}
	if n := used(c); n > CacheSize || n < CacheSize/2 {
		t.Errorf("%d slots used of %d", n, CacheSize)
	}
	// A token longer than a slot is verified each time.
	g := vectorGrant()
	g.Origin = "https://" + strings.Repeat(strings.Repeat("a", 49)+".", 4) + "example"
	long, err := Mint(vectorKey(), g)
	if err != nil {
		t.Fatal(err)
	}
	w.Origin = g.Origin
	before := c.spent
	for range 3 {
		if o, _ := v.Check(long, &w, c); o != Admitted {
			t.Fatal(o)
		}
	}
	if len(long) <= CacheTokenMax || c.spent-before != 3 {
		t.Errorf("a %d-byte token: %d verifications for 3 checks; want 3", len(long), c.spent-before)
	}
}
