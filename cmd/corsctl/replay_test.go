package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testWasm returns the path of build/cors.wasm (or $CORS_BUILD_DIR/cors.wasm),
// skipping when it is absent unless CORS_REQUIRE_WASM=1.
func testWasm(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "build")
	if d := os.Getenv("CORS_BUILD_DIR"); d != "" {
		dir = d
	}
	p := filepath.Join(dir, "cors.wasm")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CORS_REQUIRE_WASM") == "1" {
			t.Fatalf("%s is missing (CORS_REQUIRE_WASM=1): run `make build`", p)
		}
		t.Skipf("%s is missing: run `make build`", p)
	}
	return p
}

func tempConfig(t *testing.T, config string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cors.json")
	if err := os.WriteFile(p, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const replayConfig = `{"allowed_origins": ["https://app.example.com"], "allow_credentials": true, "allowed_methods": ["PUT"]}`

func TestReplay(t *testing.T) {
	wasm := testWasm(t)
	config := tempConfig(t, replayConfig)
	cases := []struct {
		desc     string
		input    string
		wantCode int
		want     string // stdout, exactly
		wantErr  string // substring of stderr
	}{
		{
			desc:  "allowed preflight, answered locally",
			input: `{"id":1,"method":"OPTIONS","authority":"api.example.com","path":"/x","headers":[["Origin","https://app.example.com"],["Access-Control-Request-Method","PUT"]]}` + "\n",
			want:  `{"id":1,"forwarded":false,"status":204,"headers":[["access-control-allow-origin","https://app.example.com"],["access-control-allow-credentials","true"],["access-control-allow-methods","PUT"],["vary","Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]]}` + "\n",
		},
		{
			desc:  "a later filter's 401 with a permissive upstream header, and a blank line",
			input: "\n" + `{"id":"b","method":"GET","authority":"api.example.com","path":"/x","headers":[["origin","https://app.example.com"]],"upstream":{"status":401,"headers":[["Access-Control-Allow-Origin","*"],["WWW-Authenticate","Bearer"]]}}` + "\n",
			want:  `{"id":"b","forwarded":true,"status":401,"headers":[["www-authenticate","Bearer"],["access-control-allow-origin","https://app.example.com"],["access-control-allow-credentials","true"],["vary","Origin"]]}` + "\n",
		},
		{
			desc:  "denied preflight: 403 with Vary but without CORS headers; default upstream",
			input: `{"id":3,"method":"OPTIONS","path":"/","headers":[["origin","https://evil.example"],["access-control-request-method","PUT"]]}` + "\n" + `{"id":4}` + "\n",
			want: `{"id":3,"forwarded":false,"status":403,"headers":[["vary","Origin, Access-Control-Request-Method, Access-Control-Request-Headers"],["content-length","22"],["content-type","text/plain"]]}` + "\n" +
				`{"id":4,"forwarded":true,"status":200,"headers":[["vary","Origin"]]}` + "\n",
		},
		{
			desc:     "malformed line names its number",
			input:    `{"id":1}` + "\n" + `{"id":2,"headers":[["origin"]]}` + "\n",
			wantCode: 1,
			want:     `{"id":1,"forwarded":true,"status":200,"headers":[["vary","Origin"]]}` + "\n",
			wantErr:  "corsctl: replay: line 2: headers[0]",
		},
		{
			desc:     "unknown field",
			input:    `{"id":1,"metod":"GET"}` + "\n",
			wantCode: 1,
			wantErr:  `line 1: invalid JSON request: json: unknown field "metod"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"replay", config, "-wasm", wasm}, strings.NewReader(tc.input), &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit: got %d; want %d; stderr: %s", code, tc.wantCode, stderr.String())
			}
			if got := stdout.String(); got != tc.want {
				t.Errorf("stdout:\ngot  %s\nwant %s", got, tc.want)
			}
			if tc.wantErr != "" && !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr: got %q; want it to contain %q", stderr.String(), tc.wantErr)
			}
			if tc.wantErr != "" && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Errorf("stderr: got %q; want one line", stderr.String())
			}
		})
	}
}

func TestReplayInvalidConfig(t *testing.T) {
	wasm := testWasm(t)
	config := tempConfig(t, `{"allowed_origins": ["https://App.example.com", "*"], "allow_credentials": true, "bogus": 1}`)
	var stdout, stderr bytes.Buffer
	code := run([]string{"replay", "-config", config, "-wasm", wasm}, strings.NewReader(""), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit: got %d; want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("stderr: got %q; want a summary and one line per error", stderr.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "cors: ") {
			t.Errorf("stderr line %q: want the `cors: ` prefix", l)
		}
	}
	for _, want := range []string{"bogus", "allowed_origins[0]"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, stderr.String())
		}
	}
}

func TestReplayMissingWasm(t *testing.T) {
	config := tempConfig(t, replayConfig)
	var stdout, stderr bytes.Buffer
	code := run([]string{"replay", "-config", config, "-wasm", filepath.Join(t.TempDir(), "cors.wasm")}, strings.NewReader(""), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "run `make build`") || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("got exit %d, stderr %q; want exit 1 and one line naming `make build`", code, stderr.String())
	}
}
