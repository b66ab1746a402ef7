package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

// runArgs runs corsctl with args and no stdin.
func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpExitsZero(t *testing.T) {
	tests := []struct {
		args []string
		want string // substring of stdout
	}{
		{args: []string{"-h"}, want: "usage: corsctl <command>"},
		{args: []string{"-help"}, want: "usage: corsctl <command>"},
		{args: []string{"--help"}, want: "usage: corsctl <command>"},
		{args: []string{"help"}, want: "usage: corsctl <command>"},
		{args: []string{"help", "check"}, want: "usage: corsctl check"},
		{args: []string{"help", "serve"}, want: "usage: corsctl serve CONFIG"},
		{args: []string{"check", "-h"}, want: "usage: corsctl check"},
		{args: []string{"explain", "--help"}, want: "usage: corsctl explain"},
		{args: []string{"explain", demoConfig, "-origin", "https://a.example", "-h"}, want: "-origin"},
		{args: []string{"replay", "-help"}, want: "usage: corsctl replay CONFIG"},
		{args: []string{"serve", "-h"}, want: "-upstream"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runArgs(tt.args...)
			if code != 0 || !strings.Contains(stdout, tt.want) || stderr != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 0, the usage (%q) on stdout, nothing on stderr", code, stdout, stderr, tt.want)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		desc    string
		args    []string
		wantErr string // substring of stderr
	}{
		{desc: "no command", args: nil, wantErr: "usage: corsctl <command>"},
		{desc: "mistyped command", args: []string{"chek", "x.json"}, wantErr: `unknown command "chek" (did you mean "check"?)`},
		{desc: "help on an unknown command", args: []string{"help", "explian"}, wantErr: `(did you mean "explain"?)`},
		{desc: "mistyped flag", args: []string{"explain", demoConfig, "-orgin", "https://a.example"}, wantErr: "corsctl explain: unknown flag -orgin (did you mean -origin?)"},
		{desc: "mistyped flag, transposed", args: []string{"explain", demoConfig, "-mehtod", "PUT"}, wantErr: "unknown flag -mehtod (did you mean -method?)"},
		{desc: "mistyped flag of serve", args: []string{"serve", demoConfig, "-upstrem", "http://127.0.0.1:1"}, wantErr: "unknown flag -upstrem (did you mean -upstream?)"},
		{desc: "unknown flag, nothing close", args: []string{"check", "-zzzzzz", demoConfig}, wantErr: "unknown flag -zzzzzz\n"},
		{desc: "flag without value", args: []string{"explain", demoConfig, "-origin"}, wantErr: "flag needs an argument: -origin"},
		{desc: "replay: two configurations", args: []string{"replay", "a.json", "-config", "b.json"}, wantErr: "two configurations, a.json and -config b.json"},
		{desc: "replay: no configuration", args: []string{"replay"}, wantErr: "corsctl replay: missing the CONFIG file"},
		{desc: "serve: no upstream", args: []string{"serve", demoConfig}, wantErr: "missing -upstream URL"},
		{desc: "check: no configuration", args: []string{"check"}, wantErr: "corsctl check: missing the CONFIG file"},
		{desc: "check: two arguments", args: []string{"check", "a.json", "b.json"}, wantErr: "want one CONFIG file, got 2 arguments: a.json b.json"},
		{desc: "explain: two configurations", args: []string{"explain", "a.json", "-config", "b.json"}, wantErr: "two configurations"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			code, stdout, stderr := runArgs(tt.args...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q on stderr", code, stdout, stderr, tt.wantErr)
			}
		})
	}
}

// TestConfigFlag checks that -config names the configuration in every
// subcommand, as older scripts pass it.
func TestConfigFlag(t *testing.T) {
	if code, stdout, stderr := runArgs("check", "-q", "-config", demoConfig); code != 0 || !strings.Contains(stdout, "ok: "+demoConfig) {
		t.Errorf("check -config: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, stdout, stderr := runArgs("explain", "-config", demoConfig, "-origin", "https://a.example", "-path", "/api/public/items"); code != 0 || !strings.Contains(stdout, "rule:      public-read") {
		t.Errorf("explain -config: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// The same file twice is one configuration.
	if code, _, stderr := runArgs("check", "-q", demoConfig, "-config", demoConfig); code != 0 {
		t.Errorf("check CONFIG -config CONFIG: exit %d, stderr %q", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "-version", "version"} {
		code, stdout, stderr := runArgs(arg)
		// A test binary records no module version: corsctl says devel.
		if code != 0 || !strings.HasPrefix(stdout, "corsctl devel") || stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 0 and \"corsctl devel...\"", arg, code, stdout, stderr)
		}
	}
}

func TestVersionString(t *testing.T) {
	tests := []struct {
		desc string
		info *debug.BuildInfo
		want string
	}{
		{desc: "no build info", info: nil, want: "devel"},
		{desc: "local build without VCS", info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			want: "devel, built with go1.26.8"},
		{desc: "local build with VCS", info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "fac3a9a0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}},
			want: "devel (revision fac3a9a01234, modified), built with go1.26.8"},
		{desc: "go install of a tagged module", info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}},
			want: "v0.3.0, built with go1.26.8"},
	}
	for _, tt := range tests {
		if got := version(tt.info); got != tt.want {
			t.Errorf("%s: version() = %q; want %q", tt.desc, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"origin", "method", "header", "scheme", "authority", "path", "route", "json"}
	for in, want := range map[string]string{
		"orgin": "origin", "Origin": "origin", "methdo": "method", "headers": "header", "autority": "authority",
		"pth": "path", "jsn": "json", "x": "", "credentials": "", "o": "",
	} {
		if got := closest(in, names); got != want {
			t.Errorf("closest(%q) = %q; want %q", in, got, want)
		}
	}
}
