package policy

import (
	"strconv"
	"strings"

	"github.com/corsfilter/corsfilter/policy/internal/grant"
	"github.com/corsfilter/corsfilter/policy/internal/origins"
	"github.com/tidwall/gjson"
)

// This file holds the grants of a rule (docs/grants.md): their
// configuration, their check on the request path, and the stripping of the
// query parameter that carries them.

const keyGrants = "grants"

var grantKeys = []string{"keys", "query_parameter", "max_ttl_seconds", "clock_skew_seconds", "revoked", "strip_parameter", keyVerificationBudget}

// keyVerificationBudget bounds the signature verifications of one VM per
// second: one budget for every rule, since what it bounds is the VM's CPU.
const keyVerificationBudget = "max_verifications_per_second"

// Defaults and bounds of the grants object.
const (
	defaultGrantParameter = "cors_grant"
	defaultGrantMaxTTL    = 86400
	defaultGrantSkew      = 60
	maxGrantTTL           = 30 * 86400
	maxGrantSkew          = 3600
	maxGrantKeys          = 16
	maxGrantParameter     = 64

	// 200 verifications of about 0.55 ms in wasm: at most 110 ms of CPU per
	// second per worker. 10,000 is more than a core verifies in wasm.
	defaultVerificationBudget = 200
	maxVerificationBudget     = 10000
)

// grants is a rule's decoded grants configuration.
type grants struct {
	path      string
	verifier  grant.Verifier
	keyIDs    []string // in order, for String
	revoked   []string // in order, for String
	parameter string
	strip     bool
	budget    *int // max_verifications_per_second: the VM's, shared by every grants object
}

// GrantOutcome is the result of checking the grant a request carries, a
// metric dimension next to the rule name.
type GrantOutcome = grant.Outcome

// The grant outcomes.
const (
	GrantNone           = grant.None
	GrantAdmitted       = grant.Admitted
	GrantMalformed      = grant.Malformed
	GrantUnknownKey     = grant.UnknownKey
	GrantBadSignature   = grant.BadSignature
	GrantRevoked        = grant.Revoked
	GrantExpired        = grant.Expired
	GrantNotYetValid    = grant.NotYetValid
	GrantOriginMismatch = grant.OriginMismatch
	GrantOutOfScope     = grant.OutOfScope
	GrantBusy           = grant.Busy
)

// GrantOutcomes returns every grant outcome but GrantNone, in a fixed
// order, for defining metrics.
func GrantOutcomes() []GrantOutcome {
	var all []GrantOutcome
	for o := GrantAdmitted; o < grant.NumOutcomes; o++ {
		all = append(all, o)
	}
	return all
}

// Reasons of decisions on a grant, constant like every Reason.
var grantReasons = [grant.NumOutcomes]string{
	grant.Admitted:       "origin admitted by a grant",
	grant.Malformed:      "origin not allowed; its grant is malformed",
	grant.UnknownKey:     "origin not allowed; its grant names an unknown key",
	grant.BadSignature:   "origin not allowed; its grant has a bad signature",
	grant.Revoked:        "origin not allowed; its grant is revoked",
	grant.Expired:        "origin not allowed; its grant has expired",
	grant.NotYetValid:    "origin not allowed; its grant is not yet valid",
	grant.OriginMismatch: "origin not allowed; its grant is for another origin",
	grant.OutOfScope:     "origin not allowed; its grant does not cover this rule or method",
	grant.Busy:           "origin not allowed; its grant was not verified: the verification budget of this second is spent",
}

// decodeGrants decodes a grants object, every problem at its path.
func (d *decoder) decodeGrants(v gjson.Result, path string) *grants {
	if d.budget == nil {
		d.budget = new(int)
		*d.budget = defaultVerificationBudget
	}
	g := &grants{path: path, parameter: defaultGrantParameter, strip: true, budget: d.budget}
	g.verifier.MaxTTL, g.verifier.Skew = defaultGrantMaxTTL, defaultGrantSkew
	hasKeys := false
	n := len(d.errs)
	if !d.object(v, path, grantKeys, func(key string, v gjson.Result, p string) {
		switch key {
		case "keys":
			hasKeys = true
			d.grantKeys(g, v, p)
		case "query_parameter":
			if s, ok := d.str(v, p); ok {
				if s == "" || len(s) > maxGrantParameter || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~") != "" {
					d.errs.add(p, ProblemInvalidValue, s, "a query parameter name is 1 to 64 letters, digits, '-', '_', '.' or '~', so that it needs no percent-encoding")
				} else {
					g.parameter = s
				}
			}
		case "max_ttl_seconds":
			if i := d.integer(v, p, 1, maxGrantTTL); i != nil {
				g.verifier.MaxTTL = int64(*i)
			}
		case "clock_skew_seconds":
			if i := d.integer(v, p, 0, maxGrantSkew); i != nil {
				g.verifier.Skew = int64(*i)
			}
		case "revoked":
			g.verifier.Revoked = map[string]struct{}{}
			d.stringList(v, p, true, func(s, p string) {
				if s == "" || len(s) > grant.MaxID || !printableASCII(s) {
					d.errs.add(p, ProblemInvalidValue, s, "a grant id is 1 to 64 printable ASCII characters without spaces")
				} else if _, dup := g.verifier.Revoked[s]; !dup {
					g.verifier.Revoked[s] = struct{}{}
					g.revoked = append(g.revoked, s)
				}
			})
		case "strip_parameter":
			if b := d.boolean(v, p); b != nil {
				g.strip = *b
			}
		case keyVerificationBudget:
			if i := d.integer(v, p, 1, maxVerificationBudget); i != nil {
				d.grantBudget(*i, p)
			}
		}
	}) {
		return nil
	}
	if !hasKeys {
		d.errs.add(path, ProblemMissing, "", "grants need \"keys\": the Ed25519 public keys that sign them")
	}
	if len(d.errs) > n {
		return nil
	}
	return g
}

// grantBudget records max_verifications_per_second given at path. The
// budget is the VM's, shared by every rule: where several grants objects
// give it, they must agree.
func (d *decoder) grantBudget(n int, path string) {
	if d.budgetPath == "" {
		*d.budget, d.budgetPath = n, path
	} else if n != *d.budget {
		d.errs.add(path, ProblemInvalidValue, "", "the budget is one per VM, shared by every rule with grants: give the value of "+d.budgetPath+" or none")
	}
}

func (d *decoder) grantKeys(g *grants, v gjson.Result, path string) {
	if !v.IsArray() {
		d.errs.add(path, ProblemWrongType, "", "must be an array of {\"id\", \"ed25519_public_key\"} objects, not "+typeName(v))
		return
	}
	ids := map[string]string{}
	i := 0
	v.ForEach(func(_, kv gjson.Result) bool {
		p := index(path, i)
		i++
		var k grant.Key
		hasID, hasKey := false, false
		if !d.object(kv, p, []string{"id", "ed25519_public_key"}, func(key string, v gjson.Result, p string) {
			s, ok := d.str(v, p)
			if !ok {
				return
			}
			switch key {
			case "id":
				hasID = true
				switch prev, dup := ids[s]; {
				case s == "" || len(s) > grant.MaxID || !printableASCII(s):
					d.errs.add(p, ProblemInvalidValue, s, "a key id is 1 to 64 printable ASCII characters without spaces")
				case dup:
					d.errs.add(p, ProblemDuplicateName, s, "duplicate key id (also at "+prev+")")
				default:
					ids[s] = p
					k.ID = s
				}
			case "ed25519_public_key":
				hasKey = true
				if pub, ok := decodePublicKey(s); ok {
					k.Public = pub
				} else {
					d.errs.add(p, ProblemInvalidValue, QuoteTruncated(s, maxValueLen), "must be a 32-byte Ed25519 public key in base64 or base64url, as corsctl keygen prints it")
				}
			}
		}) {
			return true
		}
		if !hasID {
			d.errs.add(p, ProblemMissing, "", "a key needs an \"id\", which grants name")
		}
		if !hasKey {
			d.errs.add(p, ProblemMissing, "", "a key needs its \"ed25519_public_key\"")
		}
		if k.ID != "" && k.Public != nil {
			g.verifier.Keys = append(g.verifier.Keys, k)
			g.keyIDs = append(g.keyIDs, k.ID)
		}
		return true
	})
	switch {
	case i == 0:
		d.errs.add(path, ProblemMissing, "", "must list at least one key")
	case i > maxGrantKeys:
		d.errs.add(path, ProblemOutOfRange, "", "at most "+itoa(maxGrantKeys)+" keys: two are enough to rotate")
	}
}

// decodePublicKey accepts the standard and URL alphabets, padded or not.
func decodePublicKey(s string) (*grant.PublicKey, bool) {
	var b [33]byte // one more than a key: a longer encoding fails to fit
	for _, url := range []bool{true, false} {
		if n, ok := grant.DecodeBase64(b[:], s, url, true); ok && n == 32 {
			return grant.NewPublicKey(b[:32])
		}
	}
	return nil, false
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// grantParam returns the value of the grant's query parameter in path, and
// whether the parameter is present. A parameter given twice yields an
// empty value, which no grant has: it is malformed.
func (g *grants) grantParam(path string) (value string, present bool) {
	q := strings.IndexByte(path, '?')
	if q < 0 {
		return "", false
	}
	for rest := path[q+1:]; rest != ""; {
		pair := rest
		if i := strings.IndexByte(rest, '&'); i >= 0 {
			pair, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if len(pair) >= len(g.parameter) && pair[:len(g.parameter)] == g.parameter &&
			(len(pair) == len(g.parameter) || pair[len(g.parameter)] == '=') {
			if present {
				return "", true
			}
			present = true
			if len(pair) > len(g.parameter) {
				value = pair[len(g.parameter)+1:]
			}
		}
	}
	return value, present
}

// granted checks the grant a request carries for origin and method, records
// the outcome in d, and reports whether it admits the origin. It allocates
// nothing.
func (ru *rule) granted(r *Request, origin, method string, d *Decision) bool {
	g := ru.grants
	if g == nil {
		return false
	}
	token, present := g.grantParam(r.Path)
	if !present {
		return false
	}
	want := grant.Want{Origin: origin, Rule: ru.name, Method: method, Now: r.Now}
	o, credentials := g.verifier.Check(token, &want, r.Grants)
	if credentials && !ru.eff.allowInsecure && insecureOrigin(origin) {
		// As for a listed origin: with credentials, a plain-http origin
		// lets any network attacker read the responses. The grant
		// admits the origin, without credentials.
		credentials = false
	}
	d.Grant, d.grantCredentials = o, credentials
	return o == grant.Admitted
}

// insecureOrigin reports whether origin is served over plain http from a
// host other than this machine's (origins.IsInsecure).
func insecureOrigin(origin string) bool {
	o, ok := origins.Parse(origin)
	return ok && origins.IsInsecure(o.Scheme, o.Host)
}

// grantReason returns the reason of a denial of origin, naming the grant's
// refusal when one was presented.
func grantReason(d *Decision, fallback string) string {
	if d.Grant > grant.Admitted && d.Grant < grant.NumOutcomes {
		return grantReasons[d.Grant]
	}
	return fallback
}

// StripGrant returns the request's path without the rule's grant
// parameter, appended to buf, when the rule strips it and it is present;
// ok is false otherwise, and the path is to be left as it is. Every
// occurrence of the parameter goes.
func (p *Policy) StripGrant(d *Decision, path string, buf []byte) (_ []byte, ok bool) {
	if d.RuleIndex < 0 || d.RuleIndex >= len(p.rules) || d.Action == Ignore {
		return buf, false
	}
	g := p.rules[d.RuleIndex].grants
	if g == nil || !g.strip {
		return buf, false
	}
	if _, present := g.grantParam(path); !present {
		return buf, false
	}
	q := strings.IndexByte(path, '?')
	buf = append(buf, path[:q]...)
	sep := byte('?')
	for rest := path[q+1:]; rest != ""; {
		pair := rest
		if i := strings.IndexByte(rest, '&'); i >= 0 {
			pair, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if len(pair) >= len(g.parameter) && pair[:len(g.parameter)] == g.parameter &&
			(len(pair) == len(g.parameter) || pair[len(g.parameter)] == '=') {
			continue
		}
		buf = append(buf, sep)
		buf = append(buf, pair...)
		sep = '&'
	}
	return buf, true
}

// HasGrants reports whether the rule at index i accepts grants.
func (p *Policy) HasGrants(i int) bool { return i >= 0 && i < len(p.rules) && p.rules[i].grants != nil }

// UsesGrants reports whether any rule accepts grants: the filter then reads
// the clock for each request (Request.Now).
func (p *Policy) UsesGrants() bool {
	for i := range p.rules {
		if p.rules[i].grants != nil {
			return true
		}
	}
	return false
}

// writeGrants writes the effective grants configuration.
func (ru *rule) writeGrants(w *jsonWriter) {
	g := ru.grants
	if g == nil {
		return
	}
	w.key(keyGrants)
	b := w.b
	b.WriteByte('{')
	gw := &jsonWriter{b: b, first: true}
	gw.key("keys")
	b.WriteByte('[')
	for i, k := range g.verifier.Keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":`)
		writeString(b, k.ID)
		b.WriteString(`,"ed25519_public_key":`)
		writeString(b, string(grant.AppendBase64URL(nil, k.Public.Bytes())))
		b.WriteByte('}')
	}
	b.WriteByte(']')
	gw.raw("query_parameter", Quote(g.parameter))
	gw.raw("max_ttl_seconds", strconv.FormatInt(g.verifier.MaxTTL, 10))
	gw.raw("clock_skew_seconds", strconv.FormatInt(g.verifier.Skew, 10))
	gw.list("revoked", g.revoked)
	gw.raw("strip_parameter", strconv.FormatBool(g.strip))
	gw.raw(keyVerificationBudget, strconv.Itoa(*g.budget))
	b.WriteByte('}')
}

// GrantCache is one VM's grant verification state: the tokens verified
// lately, and the budget of verifications per second (docs/grants.md). Give
// it to the requests in Request.Grants. It is not safe for concurrent use.
type GrantCache = grant.Cache

// NewGrantCache returns the verification state for one VM deciding with
// p, with p's budget (max_verifications_per_second), or nil when no rule
// takes grants. It allocates the whole table now, so that requests
// allocate nothing.
func (p *Policy) NewGrantCache() *GrantCache {
	if !p.UsesGrants() {
		return nil
	}
	return grant.NewCache(p.grantBudget)
}

// GrantBudget returns the signature verifications a VM makes per second at
// most (max_verifications_per_second), 0 when no rule takes grants.
func (p *Policy) GrantBudget() int {
	if !p.UsesGrants() {
		return 0
	}
	return p.grantBudget
}

// Grant is the content of a grant token (docs/grants.md).
type Grant = grant.Grant

// InspectGrant decodes a token without verifying it, to explain it.
func InspectGrant(token string) (*Grant, error) { return grant.Inspect(token) }

// GrantParameter returns the query parameter that carries grants on the rule
// at index i, "" when it takes none.
func (p *Policy) GrantParameter(i int) string {
	if !p.HasGrants(i) {
		return ""
	}
	return p.rules[i].grants.parameter
}
