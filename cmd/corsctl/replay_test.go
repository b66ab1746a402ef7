package main

import (
	"bytes"
	"os"
	"os/exec"
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
			want:  `{"id":1,"forwarded":false,"status":204,"headers":[["access-control-allow-origin","https://app.example.com"],["access-control-allow-credentials","true"],["access-control-allow-methods","PUT"],["vary","Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]],"rule":"default","verdict":"ALLOWED"}` + "\n",
		},
		{
			desc:  "a later filter's 401 with a permissive upstream header, and a blank line",
			input: "\n" + `{"id":"b","method":"GET","authority":"api.example.com","path":"/x","headers":[["origin","https://app.example.com"]],"upstream":{"status":401,"headers":[["Access-Control-Allow-Origin","*"],["WWW-Authenticate","Bearer"]]}}` + "\n",
			want:  `{"id":"b","forwarded":true,"status":401,"headers":[["access-control-allow-origin","https://app.example.com"],["www-authenticate","Bearer"],["access-control-allow-credentials","true"],["vary","Origin"]],"rule":"default","verdict":"ALLOWED"}` + "\n",
		},
		{
			desc:  "denied preflight: 403 with Vary but without CORS headers; default upstream",
			input: `{"id":3,"method":"OPTIONS","path":"/","headers":[["origin","https://evil.example"],["access-control-request-method","PUT"]]}` + "\n" + `{"id":4}` + "\n",
			want: `{"id":3,"forwarded":false,"status":403,"headers":[["vary","Origin, Access-Control-Request-Method, Access-Control-Request-Headers"],["content-length","22"],["content-type","text/plain"]],"rule":"default","verdict":"DENIED"}` + "\n" +
				`{"id":4,"forwarded":true,"status":200,"headers":[["vary","Origin"]],"rule":"default","verdict":"ALLOWED"}` + "\n",
		},
		{
			desc:     "malformed line names its number",
			input:    `{"id":1}` + "\n" + `{"id":2,"headers":[["origin"]]}` + "\n",
			wantCode: 1,
			want:     `{"id":1,"forwarded":true,"status":200,"headers":[["vary","Origin"]],"rule":"default","verdict":"ALLOWED"}` + "\n",
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

// TestReplayRuleAndVerdict checks that replay reports the rule and the
// verdict of each stream from the counter the real plugin incremented.
func TestReplayRuleAndVerdict(t *testing.T) {
	wasm := testWasm(t)
	config := tempConfig(t, `{"allowed_origins": ["https://app.example.com"], "rules": [
	  {"name": "quiet", "match": {"paths": ["/off"]}, "mode": "off"},
	  {"name": "trial", "match": {"paths": ["/trial"]}, "mode": "report_only", "reject_disallowed_origins": true},
	  {"name": "api", "match": {"path_prefixes": ["/api/"]}}]}`)
	in := strings.Join([]string{
		`{"id":"unmatched","path":"/elsewhere","headers":[["origin","https://app.example.com"]]}`,
		`{"id":"off","path":"/off","headers":[["origin","https://evil.example"]]}`,
		`{"id":"report-only","path":"/trial","headers":[["origin","https://evil.example"]]}`,
		`{"id":"denied","method":"OPTIONS","path":"/api/x","headers":[["origin","https://app.example.com"],["access-control-request-method","PUT"]]}`,
		`{"id":"allowed","path":"/api/x","headers":[["origin","https://app.example.com"]]}`,
	}, "\n")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"replay", config, "-wasm", wasm}, strings.NewReader(in), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d; stderr: %s", code, stderr.String())
	}
	want := map[string]string{
		"unmatched":   `"rule":"","verdict":"UNTOUCHED"}`,
		"off":         `"rule":"quiet","verdict":"UNTOUCHED"}`,
		"report-only": `"rule":"trial","verdict":"DENIED"}`,
		"denied":      `"rule":"api","verdict":"DENIED"}`,
		"allowed":     `"rule":"api","verdict":"ALLOWED"}`,
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), stdout.String())
	}
	for _, l := range lines {
		id := strings.Split(strings.TrimPrefix(l, `{"id":"`), `"`)[0]
		if !strings.HasSuffix(l, want[id]) {
			t.Errorf("%s: got %s; want it to end with %s", id, l, want[id])
		}
	}
}

func TestCountedOutcome(t *testing.T) {
	before := map[string]uint64{"cors.a.actual_allowed": 3, "cors.a.report_only_divergence": 1, "cors.unmatched": 2, "cors.internal_fault": 0}
	tests := []struct {
		desc    string
		changed map[string]uint64
		rule    string
		outcome string
		ok      bool
	}{
		{desc: "an outcome", changed: map[string]uint64{"cors.a.actual_allowed": 4}, rule: "a", outcome: "actual_allowed", ok: true},
		{desc: "an outcome with a divergence", changed: map[string]uint64{"cors.a.report_only_divergence": 2, "cors.a-b.actual_denied": 1},
			rule: "a-b", outcome: "actual_denied", ok: true},
		{desc: "unmatched", changed: map[string]uint64{"cors.unmatched": 3}, rule: "", outcome: "unmatched", ok: true},
		{desc: "a fault only", changed: map[string]uint64{"cors.internal_fault": 1}},
		{desc: "nothing", changed: nil},
	}
	for _, tt := range tests {
		after := map[string]uint64{}
		for k, v := range before {
			after[k] = v
		}
		for k, v := range tt.changed {
			after[k] = v
		}
		rule, o, ok := countedOutcome(before, after)
		if ok != tt.ok || ok && (rule != tt.rule || o.String() != tt.outcome) {
			t.Errorf("%s: got %q %v %v; want %q %s %v", tt.desc, rule, o, ok, tt.rule, tt.outcome, tt.ok)
		}
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

func TestReplayNoDefaultWasm(t *testing.T) {
	config := tempConfig(t, replayConfig)
	t.Chdir(t.TempDir()) // no build/cors.wasm, and none beside the test binary
	code, stdout, stderr := runArgs("replay", config)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "corsctl: no cors.wasm at ") ||
		!strings.Contains(stderr, " nor build/cors.wasm: run `make build` (or pass -wasm)\n") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 naming the places looked at", code, stdout, stderr)
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

func TestFindWasm(t *testing.T) {
	touch := func(path string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("\x00asm"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin, work := t.TempDir(), t.TempDir()
	exe := filepath.Join(bin, "corsctl")
	touch(exe)
	t.Chdir(work)

	// Neither: both places named.
	if got, looked := findWasm(exe); got != "" || len(looked) != 2 || looked[0] != filepath.Join(bin, "cors.wasm") || looked[1] != filepath.Join("build", "cors.wasm") {
		t.Errorf("findWasm() = %q, looked %q; want none found, having looked beside the binary and in build/", got, looked)
	}
	// build/cors.wasm in the current directory.
	touch(filepath.Join(work, "build", "cors.wasm"))
	if got, _ := findWasm(exe); got != filepath.Join("build", "cors.wasm") {
		t.Errorf("findWasm() = %q; want build/cors.wasm", got)
	}
	// Beside the binary first.
	touch(filepath.Join(bin, "cors.wasm"))
	if got, _ := findWasm(exe); got != filepath.Join(bin, "cors.wasm") {
		t.Errorf("findWasm() = %q; want the one beside the binary", got)
	}
	// Through a symbolic link to the binary: beside the binary itself.
	// (Last, as it may skip.)
	link := filepath.Join(t.TempDir(), "corsctl")
	if err := os.Symlink(exe, link); err != nil {
		t.Skip(err)
	}
	if got, _ := findWasm(link); got != filepath.Join(bin, "cors.wasm") {
		t.Errorf("findWasm(%s) = %q; want the one beside the binary it links to", link, got)
	}
}

// TestDefaultWasmBesideBinary builds corsctl into a directory beside a copy
// of cors.wasm and runs it from another directory: without -wasm, it finds
// the plugin beside itself.
func TestDefaultWasmBesideBinary(t *testing.T) {
	wasm := testWasm(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "corsctl"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "cors.wasm"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	config := tempConfig(t, replayConfig)
	cmd := exec.Command(filepath.Join(bin, "corsctl"), "replay", config)
	cmd.Dir = t.TempDir() // no build/cors.wasm here
	cmd.Stdin = strings.NewReader(`{"id":1,"headers":[["origin","https://app.example.com"]]}` + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"verdict":"ALLOWED"`) {
		t.Errorf("corsctl replay from %s without -wasm: %v\n%s", cmd.Dir, err, out)
	}
}
