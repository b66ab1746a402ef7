package grant

import (
	"encoding/binary"
	"errors"
	"github.com/corsfilter/corsfilter/policy/internal/origins"
	"strconv"
)

// Grant is the content of a token, for minting and for explaining one.
type Grant struct {
	KeyID       string
	Origin      string
	IssuedAt    int64 // unix seconds
	ExpiresAt   int64 // unix seconds
	ID          string
	Credentials bool
	Rules       []string
	Methods     []string // empty: any method the rule allows
}

// Encode returns the signing input of g, "v1." followed by its payload. It
// refuses a grant the verifier would find malformed. Signing is left to the
// caller (package policy/mint), so that the plugin does not link
// crypto/ed25519.
func Encode(g *Grant) ([]byte, error) {
	b := []byte(Prefix)
	b = append(b, byte(len(g.KeyID)))
	b = append(b, g.KeyID...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(g.Origin)))
	b = append(b, g.Origin...)
	b = binary.BigEndian.AppendUint64(b, uint64(g.IssuedAt))
	b = binary.BigEndian.AppendUint64(b, uint64(g.ExpiresAt))
	b = append(b, byte(len(g.ID)))
	b = append(b, g.ID...)
	if g.Credentials {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, l := range [][]string{g.Rules, g.Methods} {
		b = append(b, byte(len(l)))
		for _, s := range l {
			b = append(b, byte(len(s)))
			b = append(b, s...)
		}
	}
	pl := b[len(Prefix):]
	if len(pl) > MaxPayload || len(g.KeyID) > MaxID || len(g.ID) > MaxID || len(g.Origin) > MaxOrigin ||
		len(g.Rules) > MaxNames || len(g.Methods) > MaxNames || !longest(g.Rules, MaxRuleName) || !longest(g.Methods, MaxMethod) {
		return nil, errors.New("grant: a field exceeds its bound (docs/grants.md)")
	}
	if o, err := origins.ParsePattern(g.Origin); err != nil || !o.IsExact() || o.Port == "*" {
		return nil, errors.New("grant: the origin must be one exact origin as browsers send it, such as https://app.example or chrome-extension://<id>")
	}
	if _, ok := parse(pl); !ok {
		return nil, errors.New("grant: invalid grant: it needs a key id, an exact origin such as https://app.example, an expiry after its issue, a grant id, and at least one rule")
	}
	return b, nil
}

// Assemble returns the token of a signing input and its signature.
func Assemble(input, sig []byte) string {
	b := AppendBase64URL([]byte(Prefix), input[len(Prefix):])
	return string(AppendBase64URL(append(b, '.'), sig))
}

func longest(l []string, max int) bool {
	for _, s := range l {
		if len(s) > max {
			return false
		}
	}
	return true
}

// Inspect decodes a token without verifying its signature, for explaining
// it. It allocates.
func Inspect(token string) (*Grant, error) {
	if len(token) < len(Prefix) || token[:len(Prefix)] != Prefix {
		return nil, errors.New("not a grant: it must start with " + strconv.Quote(Prefix))
	}
	if len(token) > MaxToken {
		return nil, errors.New("not a grant: longer than " + strconv.Itoa(MaxToken) + " bytes")
	}
	dot := len(token) - sigB64Length - 1
	if dot < len(Prefix) || token[dot] != '.' {
		return nil, errors.New("not a grant: it must end with '.' and an 86-character base64url signature")
	}
	var sig [64]byte
	if n, ok := decode(sig[:], token[dot+1:]); !ok || n != len(sig) {
		return nil, errors.New("not a grant: the signature is not unpadded base64url of 64 bytes")
	}
	var buf [MaxPayload]byte
	n, ok := decode(buf[:], token[len(Prefix):dot])
	if !ok {
		return nil, errors.New("not a grant: the payload is not unpadded base64url of at most " + strconv.Itoa(MaxPayload) + " bytes")
	}
	p, ok := parse(buf[:n])
	if !ok {
		return nil, errors.New("not a grant: the payload does not follow the v1 layout (docs/grants.md)")
	}
	return &Grant{
		KeyID: string(p.keyID), Origin: string(p.origin), IssuedAt: p.iat, ExpiresAt: p.exp,
		ID: string(p.grantID), Credentials: p.credentials,
		Rules: names(p.rules, p.nRules), Methods: names(p.methods, p.nMethods),
	}, nil
}

func names(l []byte, count int) []string {
	var out []string
	for range count {
		n := int(l[0])
		out = append(out, string(l[1:1+n]))
		l = l[1+n:]
	}
	return out
}
