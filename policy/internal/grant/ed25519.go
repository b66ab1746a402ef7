package grant

import "filippo.io/edwards25519"

// PublicKey is an Ed25519 public key decoded once, at load, for
// verification (RFC 8032 §5.1.7, as crypto/ed25519.Verify does it).
// crypto/ed25519 itself is not linked into the plugin: with crypto/sha512 it
// brings the standard library's FIPS 140 module, about 380 KB of cors.wasm,
// which the size budget cannot take. filippo.io/edwards25519 is the
// standard library's own group arithmetic, published as a module.
type PublicKey struct {
	raw     [32]byte
	minusA  edwards25519.Point
	decoded bool
}

// NewPublicKey decodes a 32-byte Ed25519 public key; ok is false when the
// bytes are not the canonical encoding of a point, or when the point has
// small order: with such a key (the identity, for one) a signature can be
// made without any private key, so a configuration holding one would let
// anyone mint grants.
func NewPublicKey(b []byte) (k *PublicKey, ok bool) {
	if len(b) != 32 {
		return nil, false
	}
	k = &PublicKey{}
	copy(k.raw[:], b)
	var a, a8 edwards25519.Point
	if _, err := a.SetBytes(b); err != nil || string(a.Bytes()) != string(b) {
		return nil, false
	}
	if a8.MultByCofactor(&a).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return nil, false
	}
	k.minusA.Negate(&a)
	k.decoded = true
	return k, true
}

// Bytes returns the key's 32 bytes.
func (k *PublicKey) Bytes() []byte { return k.raw[:] }

// verify reports whether sig is k's signature of msg. It allocates nothing.
func (k *PublicKey) verify(msg []byte, sig *[64]byte) bool {
	if !k.decoded || sig[63]&224 != 0 {
		return false
	}
	var h sha512
	h.reset()
	h.write(sig[:32])
	h.write(k.raw[:])
	h.write(msg)
	var digest [64]byte
	h.sum(&digest)
	kh, err := new(edwards25519.Scalar).SetUniformBytes(digest[:])
	if err != nil {
		return false
	}
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	var r edwards25519.Point
	r.VarTimeDoubleScalarBaseMult(kh, &k.minusA, s)
	// Signatures are public: no constant-time comparison is needed.
	return string(sig[:32]) == string(r.Bytes())
}
