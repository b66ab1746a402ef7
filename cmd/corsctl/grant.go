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

// grantFlags adds explain's -grant and -now.
func grantFlags(fs *flag.FlagSet, f *explainFlags) {
	fs.StringVar(&f.grant, "grant", "", "a grant `TOKEN`, sent in the rule's query parameter (it may also be in -path's query)")
	fs.Int64Var(&f.now, "now", 0, "the time grants are checked at, in unix `seconds` (default: now)")
}

// decideWithGrant decides r at explain's clock, with -grant added to the
// query of the rule that governs the request.
func decideWithGrant(p *policy.Policy, r *policy.Request, f *explainFlags) policy.Decision {
	r.Now = f.now
	if r.Now == 0 {
		r.Now = time.Now().Unix()
	}
	d := p.Decide(r)
	if f.grant == "" {
		return d
	}
	param := p.GrantParameter(d.RuleIndex)
	if param == "" {
		param = "cors_grant"
	}
	sep := "?"
	if strings.Contains(r.Path, "?") {
		sep = "&"
	}
	r.Path += sep + param + "=" + f.grant
	f.path = r.Path
	return p.Decide(r)
}

// writeGrant says what became of the grant the request carries, and what
// it holds.
func writeGrant(w io.Writer, p *policy.Policy, r *policy.Request, d *policy.Decision) {
	if d.Grant == policy.GrantNone {
		return
	}
	fmt.Fprintf(w, "grant:     %s", d.Grant)
	switch d.Grant {
	case policy.GrantAdmitted:
		fmt.Fprint(w, ": it admits the origin for this request")
	case policy.GrantBusy:
		fmt.Fprintf(w, ": not verified, the VM's %d verifications of this second were spent", p.GrantBudget())
	}
	fmt.Fprintln(w)
	if d.Grant == policy.GrantAdmitted || d.Grant == policy.GrantBadSignature {
		// Every cheaper check passed: the signature was verified.
		fmt.Fprintf(w, "           its signature was verified: in the plugin, one of the VM's %d verifications per second\n", p.GrantBudget())
		fmt.Fprintln(w, "           (max_verifications_per_second) unless the VM verified this token before; beyond them, busy")
	}
	tok := grantToken(r.Path)
	g, err := policy.InspectGrant(tok)
	if err != nil {
		fmt.Fprintf(w, "           %v\n", err)
		return
	}
	methods := "any the rule allows"
	if len(g.Methods) > 0 {
		methods = strings.Join(g.Methods, ", ")
	}
	fmt.Fprintf(w, "           key %s, id %s, for %s, rules %s, methods %s, credentials %v\n",
		g.KeyID, g.ID, g.Origin, strings.Join(g.Rules, ", "), methods, g.Credentials)
	fmt.Fprintf(w, "           issued %s, expires %s (checked at %s)\n",
		time.Unix(g.IssuedAt, 0).UTC().Format(time.RFC3339), time.Unix(g.ExpiresAt, 0).UTC().Format(time.RFC3339),
		time.Unix(r.Now, 0).UTC().Format(time.RFC3339))
}

// grantToken returns the first value in the query that looks like a grant.
func grantToken(path string) string {
	_, q, _ := strings.Cut(path, "?")
	for _, kv := range strings.Split(q, "&") {
		if _, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(v, "v1.") {
			return v
		}
	}
	return ""
}
