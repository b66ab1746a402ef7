package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corsfilter/corsfilter/policy"
	"github.com/corsfilter/corsfilter/policy/mint"
)

func corsctl(t *testing.T, stdin string, args ...string) (stdout string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	if code != 0 {
		t.Logf("corsctl %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String(), code
}

// TestGrantDoneMeans runs the acceptance: keygen, a config with the
// printed key, a grant minted by corsctl grant, explain and replay on the
// real cors.wasm, the grant's origin admitted, another origin and an
// expired grant denied.
func TestGrantDoneMeans(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k1.pem")
	out, code := corsctl(t, "", "keygen", "-out", keyFile)
	if code != 0 {
		t.Fatal(out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	pub := lines[len(lines)-1]
	if len(pub) != 43 || strings.ContainsAny(pub, " :") {
		t.Fatalf("last line %q is not the public key alone", pub)
	}
	if _, code := corsctl(t, "", "keygen", "-out", keyFile); code == 0 {
		t.Error("keygen overwrote an existing key")
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, %v", fi.Mode(), err)
	}
	config := tempConfig(t, `{"rules":[{"name":"widget","allowed_origins":[],"allowed_methods":["PUT"],"grants":{"keys":[{"id":"k1","ed25519_public_key":"`+pub+`"}]}}]}`)
	tok, code := corsctl(t, "", "grant", "-key", keyFile, "-key-id", "k1", "-origin", "https://customer.example", "-rule", "widget", "-ttl", "1h")
	if code != 0 {
		t.Fatal(tok)
	}
	tok = strings.TrimSpace(tok)
	priv, err := readKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	expired, err := mint.Grant(priv, &policy.Grant{KeyID: "k1", Origin: "https://customer.example", IssuedAt: now - 7200, ExpiresAt: now - 3600, ID: "old", Rules: []string{"widget"}})
	if err != nil {
		t.Fatal(err)
	}

	// explain
	for _, tc := range []struct {
		origin, grant, want string
	}{
		{"https://customer.example", tok, "verdict:   ALLOWED"},
		{"https://customer.example", tok, "one of the VM's 200 verifications per second"},
		{"https://other.example", tok, "grant:     origin_mismatch"},
		{"https://customer.example", expired, "grant:     expired"},
		{"https://customer.example", "v1.junk", "grant:     malformed"},
	} {
		out, _ := corsctl(t, "", "explain", config, "-origin", tc.origin, "-method", "OPTIONS", "-header", "Access-Control-Request-Method: PUT", "-grant", tc.grant)
		if !strings.Contains(out, tc.want) {
			t.Errorf("explain %s: want %q in\n%s", tc.origin, tc.want, out)
		}
	}

	// replay, on the real cors.wasm
	wasm := testWasm(t)
	var in strings.Builder
	for i, tc := range []struct{ method, origin, grant string }{
		{"OPTIONS", "https://customer.example", tok},
		{"PUT", "https://customer.example", tok},
		{"OPTIONS", "https://other.example", tok},
		{"PUT", "https://other.example", tok},
		{"OPTIONS", "https://customer.example", expired},
		{"PUT", "https://customer.example", expired},
	} {
		hs := [][]string{{"origin", tc.origin}}
		if tc.method == "OPTIONS" {
			hs = append(hs, []string{"access-control-request-method", "PUT"})
		}
		b, _ := json.Marshal(map[string]any{"id": i, "method": tc.method, "authority": "api.example.com", "path": "/w?a=1&cors_grant=" + tc.grant, "headers": hs})
		in.Write(b)
		in.WriteByte('\n')
	}
	out, code = corsctl(t, in.String(), "replay", config, "-wasm", wasm)
	if code != 0 {
		t.Fatalf("replay: %d\n%s", code, out)
	}
	want := []string{"ALLOWED", "ALLOWED", "DENIED", "DENIED", "DENIED", "DENIED"}
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var o struct {
			Verdict string      `json:"verdict"`
			Headers [][2]string `json:"headers"`
		}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatal(err)
		}
		if o.Verdict != want[i] {
			t.Errorf("replay %d: %s, want %s: %s", i, o.Verdict, want[i], line)
		}
		if o.Verdict == "ALLOWED" && !strings.Contains(line, `["access-control-allow-origin","https://customer.example"]`) {
			t.Errorf("replay %d: no ACAO for the granted origin: %s", i, line)
		}
	}
}

func TestGrantFlags(t *testing.T) {
	if _, code := corsctl(t, "", "grant", "-origin", "https://a.example"); code != 2 {
		t.Errorf("grant without -key: exit %d, want 2", code)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k")
	corsctl(t, "", "keygen", "-out", keyFile)
	if out, code := corsctl(t, "", "grant", "-key", keyFile, "-key-id", "k1", "-origin", "null", "-rule", "w"); code != 1 {
		t.Errorf("a grant for null: exit %d, %s", code, out)
	}
	out, code := corsctl(t, "", "grant", "-key", keyFile, "-key-id", "k1", "-origin", "https://a.example", "-rule", "w,x", "-methods", "PUT,DELETE", "-credentials", "-id", "g7", "-ttl", "10m")
	if code != 0 {
		t.Fatal(out)
	}
	g, err := policy.InspectGrant(strings.TrimSpace(out))
	if err != nil || g.ID != "g7" || !g.Credentials || len(g.Rules) != 2 || strings.Join(g.Methods, ",") != "PUT,DELETE" || g.ExpiresAt-g.IssuedAt != 600 {
		t.Errorf("minted %+v, %v", g, err)
	}
}
