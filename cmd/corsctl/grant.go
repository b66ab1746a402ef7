package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/corsfilter/corsfilter/policy"
	"github.com/corsfilter/corsfilter/policy/mint"
)

// corsctl grant mints a grant token (docs/grants.md).

func init() {
	commands["grant"] = command{summary: "mint a grant: one origin may call a rule until it expires", run: runGrant}
}

func runGrant(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("grant", flag.ContinueOnError)
	keyFile := fs.String("key", "", "the private key `FILE` (corsctl keygen -out)")
	keyID := fs.String("key-id", "", "the key's `ID` in grants.keys")
	origin := fs.String("origin", "", "the exact `ORIGIN` admitted, e.g. https://customer.example")
	rules := fs.String("rule", "", "the rule `NAMES` it is for, comma-separated")
	ttl := fs.Duration("ttl", time.Hour, "how long it lives (at most the rule's max_ttl_seconds)")
	methods := fs.String("methods", "", "restrict it to these `METHODS`, comma-separated (default: the rule's)")
	credentials := fs.Bool("credentials", false, "allow credentials (only where the rule allows them too)")
	id := fs.String("id", "", "the grant `ID`, for revocation (default: 16 random hex digits)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: corsctl grant -key FILE -key-id ID -origin O -rule R -ttl 1h [-methods PUT,DELETE] [-credentials] [-id ID]")
		fmt.Fprintln(fs.Output(), "Prints a grant token; send it as ?cors_grant=TOKEN (the rule's query_parameter).")
		fs.PrintDefaults()
	}
	pos, code, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 || *keyFile == "" || *keyID == "" || *origin == "" || *rules == "" {
		fmt.Fprintln(stderr, "corsctl grant: want -key, -key-id, -origin and -rule, and no other argument")
		fmt.Fprintln(stderr, "run 'corsctl grant -h' for usage")
		return 2
	}
	if *ttl < time.Second {
		fmt.Fprintln(stderr, "corsctl grant: -ttl must be at least 1s")
		return 2
	}
	priv, err := readKey(*keyFile)
	if err != nil {
		fmt.Fprintln(stderr, "corsctl grant:", err)
		return 1
	}
	if *id == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		*id = hex.EncodeToString(b[:])
	}
	now := time.Now().Unix()
	g := &policy.Grant{KeyID: *keyID, Origin: *origin, IssuedAt: now, ExpiresAt: now + int64(ttl.Seconds()),
		ID: *id, Credentials: *credentials, Rules: splitList(*rules), Methods: splitList(*methods)}
	tok, err := mint.Grant(priv, g)
	if err != nil {
		fmt.Fprintln(stderr, "corsctl grant:", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
