package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// corsctl keygen writes an Ed25519 private key for minting grants, and
// prints the public key for the configuration (docs/grants.md).

func init() {
	commands["keygen"] = command{summary: "write an Ed25519 key for grants; print its public key", run: runKeygen}
}

const pemType = "PRIVATE KEY SEED ED25519"

func runKeygen(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	out := fs.String("out", "", "write the private key (PEM, mode 0600) to `FILE`, which must not exist")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: corsctl keygen -out FILE")
		fmt.Fprintln(fs.Output(), "Writes an Ed25519 private key for corsctl grant (or a backend) to FILE and prints the public key,")
		fmt.Fprintln(fs.Output(), "base64url, alone on the last line, for grants.keys[].ed25519_public_key.")
		fs.PrintDefaults()
	}
	pos, code, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if *out == "" || len(pos) > 0 {
		fmt.Fprintln(stderr, "corsctl keygen: want -out FILE and nothing else")
		return 2
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		fmt.Fprintln(stderr, "corsctl keygen:", err)
		return 1
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		fmt.Fprintln(stderr, "corsctl keygen:", err)
		return 1
	}
	err = pem.Encode(f, &pem.Block{Type: pemType, Bytes: priv.Seed()})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "corsctl keygen:", err)
		return 1
	}
	fmt.Fprintf(stdout, "private key written to %s; public key for grants.keys[].ed25519_public_key:\n", *out)
	fmt.Fprintln(stdout, base64.RawURLEncoding.EncodeToString(pub))
	return 0
}

// readKey reads a private key written by keygen: PEM with the 32-byte seed,
// or the seed alone in base64 or base64url (what a backend's secret store
// may hold).
func readKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed := []byte(nil)
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != pemType {
			return nil, fmt.Errorf("%s: a PEM block of type %q, not %q as corsctl keygen writes", path, blk.Type, pemType)
		}
		seed = blk.Bytes
	} else {
		s := strings.TrimSpace(string(b))
		for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
			if d, err := enc.DecodeString(s); err == nil {
				seed = d
				break
			}
		}
	}
	if len(seed) != ed25519.SeedSize {
		return nil, errors.New(path + ": not an Ed25519 private key as corsctl keygen writes (a 32-byte seed)")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}
