// Package mint signs grants (docs/grants.md) for corsctl and for Go
// backends. It is apart from package policy so that the plugin, which only
// verifies, does not link crypto/ed25519: with the standard library's FIPS
// 140 module it would cost cors.wasm about 380 KB.
package mint

import (
	"crypto/ed25519"
	"errors"

	"github.com/corsfilter/corsfilter/policy"
	"github.com/corsfilter/corsfilter/policy/internal/grant"
)

// Grant encodes g and signs it with priv. It refuses a grant that no
// verifier would accept as well-formed.
func Grant(priv ed25519.PrivateKey, g *policy.Grant) (string, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return "", errors.New("grant: the private key is not an Ed25519 key")
	}
	input, err := grant.Encode(g)
	if err != nil {
		return "", err
	}
	return grant.Assemble(input, ed25519.Sign(priv, input)), nil
}
