package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const demoConfig = "../../examples/demo/cors.json"

// writeConfig writes config to a temporary file and returns its path.
func writeConfig(t *testing.T, config string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cors.json")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheck(t *testing.T) {
	tests := []struct {
		desc       string
		config     string // written to a file passed as CONFIG (unless args are given)
		args       []string
		stdin      string
		want       int
		wantOut    []string // substrings of stdout
		wantErr    []string // substrings of stderr
		errLines   int      // exact number of stderr lines, when > 0
		noStdout   bool
		prefixCors bool // every stderr line starts with "cors: "
	}{
		{
			desc:    "minimal config",
			config:  `{"allowed_origins": ["https://app.example.com"]}`,
			want:    0,
			wantOut: []string{"ok: ", "1 rule (default)", `"allowed_origins": ["https://app.example.com"]`},
		},
		{
			desc:    "demo config",
			args:    []string{demoConfig},
			want:    0,
			wantOut: []string{"3 rules (public-read, app-write, admin)", `"name": "app-write"`},
		},
		{
			desc:    "quiet",
			config:  `{"allowed_origins": ["https://app.example.com"]}`,
			args:    []string{"-q", "CONFIG"},
			want:    0,
			wantOut: []string{"1 rule (default)"},
		},
		{
			desc:   "rule names whose metrics collide in Prometheus",
			config: `{"allowed_origins": ["https://app.example.com"], "rules": [{"name": "web-app", "match": {"paths": ["/a"]}}, {"name": "web_app"}]}`,
			want:   1,
			wantErr: []string{`cors: rules[1].name: "web_app": its metrics would be counted with those of rule "web-app" (at rules[0].name)`,
				"cors_web_app_*"},
			errLines:   1,
			noStdout:   true,
			prefixCors: true,
		},
		{
			desc:       "every error, one per line",
			config:     `{"allowed_origins": ["*"], "allow_credentials": true, "max_age_seconds": 99999, "foo": 1}`,
			want:       1,
			wantErr:    []string{"max_age_seconds", "foo", "allow_credentials"},
			errLines:   3,
			noStdout:   true,
			prefixCors: true,
		},
		{
			desc:     "not json: the policy's error, then the line and column",
			config:   `{"allowed_origins": [`,
			want:     1,
			noStdout: true,
			wantErr:  []string{"cors: the configuration is not valid JSON\n", "cors.json:1:22: unexpected end of JSON input"},
			errLines: 2,
		},
		{
			desc:     "a missing comma is located",
			config:   "{\n  \"allowed_origins\": [\"https://app.example.com\"]\n  \"max_age_seconds\": 600\n}\n",
			want:     1,
			noStdout: true,
			wantErr: []string{"cors: the configuration is not valid JSON\n",
				"cors.json:3:3: invalid character '\"' after object key:value pair (is a comma missing before it?)\n"},
			errLines: 2,
		},
		{
			desc:     "a missing comma in an array, after a multi-byte character",
			config:   `{"allowed_origins": ["https://é.example" "https://b.example"]}`,
			want:     1,
			noStdout: true,
			wantErr:  []string{"cors.json:1:42: invalid character '\"' after array element"},
		},
		{
			desc:     "warning does not fail",
			config:   `{"allowed_origins": ["https://app.example.com"], "max_age_seconds": 86400}`,
			want:     0,
			wantOut:  []string{"1 warning"},
			wantErr:  []string{"warning: max_age_seconds: 86400 exceeds Chromium's cap"},
			errLines: 1,
		},
		{
			desc:     "a safelisted method listed: a warning, exit 0",
			config:   `{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["GET", "PUT"]}`,
			want:     0,
			wantOut:  []string{"ok: ", "1 warning"},
			wantErr:  []string{`warning: allowed_methods[0]: "GET" is always allowed, whatever allowed_methods says`},
			errLines: 1,
		},
		{
			desc:     "debug: a warning, exit 0",
			config:   `{"allowed_origins": ["https://app.example.com"], "debug": true}`,
			want:     0,
			wantOut:  []string{"ok: ", "1 warning"},
			wantErr:  []string{"warning: debug: true adds x-cors-debug", "keep it off in production"},
			errLines: 1,
		},
		{
			desc:    "stdin",
			args:    []string{"-"},
			stdin:   `{"allowed_origins": ["https://app.example.com"]}`,
			want:    0,
			wantOut: []string{"ok: -: 1 rule"},
		},
		{
			desc:     "unreadable file",
			args:     []string{"/nonexistent/cors.json"},
			want:     1,
			wantErr:  []string{"cannot read config"},
			errLines: 1,
			noStdout: true,
		},
		{desc: "no argument", args: []string{}, want: 2, noStdout: true},
		{desc: "two arguments", args: []string{"a.json", "b.json"}, want: 2, noStdout: true},
		{desc: "unknown flag", args: []string{"-x", "a.json"}, want: 2, noStdout: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			args := tt.args
			if tt.config != "" {
				path := writeConfig(t, tt.config)
				if args == nil {
					args = []string{path}
				}
				for i, a := range args {
					if a == "CONFIG" {
						args[i] = path
					}
				}
			}
			var stdout, stderr bytes.Buffer
			got := run(append([]string{"check"}, args...), strings.NewReader(tt.stdin), &stdout, &stderr)
			if got != tt.want {
				t.Fatalf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tt.want, stdout.String(), stderr.String())
			}
			for _, s := range tt.wantOut {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if tt.errLines > 0 && len(lines) != tt.errLines {
				t.Errorf("stderr has %d lines, want %d:\n%s", len(lines), tt.errLines, stderr.String())
			}
			if tt.prefixCors {
				for _, l := range lines {
					if !strings.HasPrefix(l, "cors: ") {
						t.Errorf("stderr line %q does not start with \"cors: \"", l)
					}
				}
			}
			if tt.noStdout && stdout.Len() != 0 {
				t.Errorf("stdout not empty:\n%s", stdout.String())
			}
		})
	}
}

func TestIndentJSON(t *testing.T) {
	tests := []struct {
		desc, in, want string
	}{
		{desc: "scalar arrays on one line", in: `{"a":["x","y"],"b":1}`, want: "{\n  \"a\": [\"x\", \"y\"],\n  \"b\": 1\n}"},
		{desc: "brackets inside strings", in: `{"a":["^x[", "]"]}`, want: "{\n  \"a\": [\"^x[\", \"]\"]\n}"},
		{desc: "array of objects stays expanded", in: `{"r":[{"n":"a"}]}`, want: "{\n  \"r\": [\n    {\n      \"n\": \"a\"\n    }\n  ]\n}"},
		{desc: "empty array", in: `{"a":[]}`, want: "{\n  \"a\": []\n}"},
		{desc: "not json", in: `nope`, want: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := indentJSON(tt.in); got != tt.want {
				t.Errorf("indentJSON(%s) =\n%s\nwant\n%s", tt.in, got, tt.want)
			}
		})
	}
}
