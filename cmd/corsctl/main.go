// Command corsctl checks, explains, replays, serves, tests, compares,
// documents and imports a CORS plugin configuration offline, with the same policy code and the same cors.wasm
// that run in Envoy.
//
//	corsctl check CONFIG
//	corsctl explain CONFIG -origin O -method M [-header K:V]... [-authority H -path P]
//	corsctl replay CONFIG [-wasm FILE] < requests.jsonl
//	corsctl serve CONFIG -upstream URL [-listen 127.0.0.1:8080] [-wasm FILE]
//	corsctl test POLICY CASES [-engine wasm|policy] [-junit FILE]
//	corsctl diff OLD NEW [-traffic requests.jsonl]
//	corsctl doc POLICY [-format markdown|html]
//	corsctl import FILE [-o OUT]
//	corsctl keygen -out FILE
//	corsctl grant -key FILE -key-id ID -origin O -rule R [-ttl 1h] [-methods PUT,DELETE] [-credentials]
//	corsctl help [COMMAND] | corsctl --version
//
// replay and serve run cors.wasm from beside the corsctl binary (where make
// build puts both), else build/cors.wasm, unless -wasm names another.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
)

// command is one corsctl subcommand. run returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands is filled by the init function of each subcommand's file.
var commands = map[string]command{}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			// corsctl help CMD is corsctl CMD -h.
			if cmd, ok := commandNamed(args[1], stderr); ok {
				return cmd.run([]string{"-h"}, stdin, stdout, stderr)
			}
			return 2
		}
		usage(stdout)
		return 0
	case "-version", "--version", "version":
		info, _ := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, "corsctl "+version(info))
		return 0
	}
	cmd, ok := commandNamed(args[0], stderr)
	if !ok {
		return 2
	}
	return cmd.run(args[1:], stdin, stdout, stderr)
}

// commandNamed returns the subcommand called name, or prints why there is
// none, with the closest name when it looks like a typo.
func commandNamed(name string, stderr io.Writer) (command, bool) {
	if cmd, ok := commands[name]; ok {
		return cmd, true
	}
	msg := fmt.Sprintf("corsctl: unknown command %q", name)
	if s := closest(name, commandNames()); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	fmt.Fprintln(stderr, msg)
	fmt.Fprintln(stderr, "run 'corsctl help' for the commands")
	return command{}, false
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: corsctl <command> [flags] [CONFIG]")
	fmt.Fprintln(w, "commands:")
	for _, name := range commandNames() {
		fmt.Fprintf(w, "  %-8s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "'corsctl help COMMAND' (or 'corsctl COMMAND -h') describes a command's flags;")
	fmt.Fprintln(w, "'corsctl --version' prints the version.")
}

// version describes the build: the main module's version when it was built
// from a tagged module, else "devel", then the VCS revision when the build
// recorded one.
func version(info *debug.BuildInfo) string {
	v := "devel"
	if info == nil {
		return v
	}
	if mv := info.Main.Version; mv != "" && mv != "(devel)" {
		v = mv
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " (revision " + rev
		if modified == "true" {
			v += ", modified"
		}
		v += ")"
	}
	if info.GoVersion != "" {
		v += ", built with " + info.GoVersion
	}
	return v
}
