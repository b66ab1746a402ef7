// Package grant parses, verifies and mints short-lived signed grants: a
// token, signed with Ed25519 by the API owner, that lets one exact origin
// call the routes of some rules, optionally with some methods only, until
// it expires (docs/grants.md).
//
// A token is "v1." + base64url(payload) + "." + base64url(signature),
// without padding. The signature is Ed25519 over the bytes "v1." followed
// by the raw payload bytes (not their base64 form). The payload is binary,
// big-endian, every field present and in this order, nothing after:
//
//	u8  len, key id         (1..64 bytes)
//	u16 len, origin         (1..328 bytes: an exact, canonical origin)
//	i64 issued_at           (unix seconds)
//	i64 expires_at          (unix seconds, > issued_at)
//	u8  len, grant id       (1..64 bytes)
//	u8  flags               (bit 0: credentials; other bits must be 0)
//	u8  count, then count × (u8 len, rule name)  (1..16 rules, 1..64 bytes each)
//	u8  count, then count × (u8 len, method)     (0..16 methods, 1..32 bytes; 0 = any method of the rule)
//
// Verification allocates nothing: the token is decoded into fixed-size
// stack buffers and the payload is read in place.
package grant

import (
	"encoding/binary"
)

// Prefix starts every token of this version.
const Prefix = "v1."

// Bounds of the format.
const (
	MaxPayload   = 1024 // bytes of a decoded payload
	MaxToken     = len(Prefix) + (MaxPayload*4+2)/3 + 1 + 86
	MaxID        = 64  // bytes of a key id or grant id
	MaxOrigin    = 328 // bytes of an origin (origins.MaxLength)
	MaxNames     = 16  // rules, or methods, in one grant
	MaxRuleName  = 64
	MaxMethod    = 32
	sigB64Length = 86 // base64url of 64 bytes, unpadded
)

// Outcome is the result of checking a grant.
type Outcome uint8

// The outcomes of Check. Their values are fixed (metrics are defined in
// this order); the checks run in another: see Check.
const (
	None           Outcome = iota // no grant presented
	Admitted                      // valid for this origin, rule and method
	Malformed                     // not a token of this format
	UnknownKey                    // signed with a key id the rule does not list
	BadSignature                  // the signature does not verify
	Revoked                       // its grant id is revoked
	Expired                       // past its expiry (or living longer than the maximum TTL)
	NotYetValid                   // issued in the future, beyond the clock skew
	OriginMismatch                // for another origin
	OutOfScope                    // not for this rule, or not for this method
	Busy                          // not verified: the verification budget of this second is spent
	NumOutcomes
)

var outcomeNames = [NumOutcomes]string{
	None: "none", Admitted: "admitted", Malformed: "malformed", UnknownKey: "unknown_key",
	BadSignature: "bad_signature", Revoked: "revoked", Expired: "expired",
	NotYetValid: "not_yet_valid", OriginMismatch: "origin_mismatch", OutOfScope: "out_of_scope", Busy: "busy",
}

// String returns the outcome in snake case, as metrics name it.
func (o Outcome) String() string {
	if o < NumOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// Key is one verification key.
type Key struct {
	_      [0]func() // incomparable: no equality function in cors.wasm
	ID     string
	Public *PublicKey
}

// Verifier checks grants against one rule's keys and limits. It is
// read-only after construction.
type Verifier struct {
	Keys    []Key
	Revoked map[string]struct{} // grant ids
	MaxTTL  int64               // seconds; 0: unbounded
	Skew    int64               // seconds of clock skew tolerated on both ends
}

// Want is what a request asks a grant for.
type Want struct {
	Origin string
	Rule   string
	Method string
	Now    int64 // unix seconds
}

// payload is a parsed payload: fields alias the buffer it was parsed from.
type payload struct {
	keyID, origin, grantID []byte
	iat, exp               int64
	credentials            bool
	rules, methods         []byte // the length-prefixed lists, as written
	nRules, nMethods       int
}

// Check verifies token for want and reports the outcome, and whether the
// grant allows credentials. It allocates nothing.
//
// Everything cheap runs first, so that a forged token costs about what an
// ordinary request does: the format, the key id, the origin, the rule and
// the method, the time window, revocation. The first of these that fails
// is the outcome, whatever the signature. Then c, the VM's cache and
// budget (nil: neither), is asked: a token whose signature verified
// before is admitted without verifying again; otherwise, when this
// second's budget is spent, the outcome is Busy, unverified. Only then is
// the signature, the one costly step, verified.
func (v *Verifier) Check(token string, want *Want, c *Cache) (o Outcome, credentials bool) {
	if len(token) < len(Prefix) || token[:len(Prefix)] != Prefix || len(token) > MaxToken {
		return Malformed, false
	}
	dot := -1
	for i := len(token) - 1; i >= len(Prefix); i-- {
		if token[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 || len(token)-dot-1 != sigB64Length {
		return Malformed, false
	}
	var msg [len(Prefix) + MaxPayload]byte
	var sig [64]byte
	copy(msg[:], Prefix)
	pn, ok := decode(msg[len(Prefix):], token[len(Prefix):dot])
	if !ok {
		return Malformed, false
	}
	if n, ok := decode(sig[:], token[dot+1:]); !ok || n != len(sig) {
		return Malformed, false
	}
	p, ok := parse(msg[len(Prefix) : len(Prefix)+pn])
	if !ok {
		return Malformed, false
	}
	var key *PublicKey
	for i := range v.Keys {
		if v.Keys[i].ID == string(p.keyID) {
			key = v.Keys[i].Public
			break
		}
	}
	if key == nil {
		return UnknownKey, false
	}
	if string(p.origin) != want.Origin {
		return OriginMismatch, false
	}
	if !hasName(p.rules, p.nRules, want.Rule) || p.nMethods > 0 && !hasName(p.methods, p.nMethods, want.Method) {
		return OutOfScope, false
	}
	until := p.exp + v.Skew // the first second it is expired
	if want.Now >= until || v.MaxTTL > 0 && p.exp-p.iat > v.MaxTTL {
		return Expired, false
	}
	if want.Now < p.iat-v.Skew {
		return NotYetValid, false
	}
	if _, revoked := v.Revoked[string(p.grantID)]; revoked {
		return Revoked, false
	}
	set, hit := c.lookup(token, key, &sig, want.Now)
	if hit {
		return Admitted, p.credentials
	}
	if !c.spend(want.Now) {
		return Busy, false
	}
	if !key.verify(msg[:len(Prefix)+pn], &sig) {
		return BadSignature, false
	}
	c.add(set, token, key, until)
	return Admitted, p.credentials
}

// decode decodes unpadded base64url s into dst, refusing anything longer
// than dst and any non-canonical encoding.
func decode(dst []byte, s string) (int, bool) {
	if len(s) == 0 {
		return 0, false
	}
	return DecodeBase64(dst, s, true, false)
}

// parse reads a payload in place, strictly.
func parse(b []byte) (p payload, ok bool) {
	if p.keyID, b, ok = field8(b, MaxID); !ok {
		return p, false
	}
	if len(b) < 2 {
		return p, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if n == 0 || n > MaxOrigin || len(b) < 2+n {
		return p, false
	}
	p.origin, b = b[2:2+n], b[2+n:]
	if len(b) < 16 {
		return p, false
	}
	p.iat, p.exp = int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))
	b = b[16:]
	if p.exp <= p.iat || p.iat < 0 {
		return p, false
	}
	if p.grantID, b, ok = field8(b, MaxID); !ok {
		return p, false
	}
	if len(b) < 1 || b[0]&^1 != 0 {
		return p, false
	}
	p.credentials, b = b[0] == 1, b[1:]
	if p.rules, p.nRules, b, ok = list(b, MaxRuleName); !ok || p.nRules == 0 {
		return p, false
	}
	if p.methods, p.nMethods, b, ok = list(b, MaxMethod); !ok {
		return p, false
	}
	return p, len(b) == 0 && validOrigin(p.origin) && printable(p.keyID) && printable(p.grantID)
}

func field8(b []byte, max int) (f, rest []byte, ok bool) {
	if len(b) < 1 {
		return nil, nil, false
	}
	n := int(b[0])
	if n == 0 || n > max || len(b) < 1+n {
		return nil, nil, false
	}
	return b[1 : 1+n], b[1+n:], true
}

// list reads a count and that many length-prefixed names, each a token.
func list(b []byte, max int) (l []byte, count int, rest []byte, ok bool) {
	if len(b) < 1 || int(b[0]) > MaxNames {
		return nil, 0, nil, false
	}
	count, rest = int(b[0]), b[1:]
	start := rest
	for range count {
		var f []byte
		if f, rest, ok = field8(rest, max); !ok || !isToken(f) {
			return nil, 0, nil, false
		}
	}
	return start[:len(start)-len(rest)], count, rest, true
}

func hasName(l []byte, count int, name string) bool {
	for range count {
		n := int(l[0])
		if string(l[1:1+n]) == name {
			return true
		}
		l = l[1+n:]
	}
	return false
}

// validOrigin checks the shape of an origin: a lower-case scheme, "://",
// and a host of printable ASCII without path, query or user info. Exactness
// is what matters: it is compared byte for byte with the request's Origin.
// "null" is never a grant's origin. Encode checks more: that the origin is
// one exact origin as browsers serialize it.
func validOrigin(o []byte) bool {
	i := 0
	for i < len(o) && ('a' <= o[i] && o[i] <= 'z' || i > 0 && ('0' <= o[i] && o[i] <= '9' || o[i] == '+' || o[i] == '-' || o[i] == '.')) {
		i++
	}
	if i == 0 || len(o) < i+4 || string(o[i:i+3]) != "://" {
		return false
	}
	for _, c := range o[i+3:] {
		if c <= ' ' || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@' || c == '\\' {
			return false
		}
	}
	return true
}

func printable(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

func isToken(b []byte) bool {
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' ||
			c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' || c == '+' ||
			c == '.' || c == '^' || c == '`' || c == '|' || c == '~') {
			return false
		}
	}
	return true
}
