// Command corsctl checks, explains, replays and serves a CORS plugin
// configuration offline, with the same policy code and the same cors.wasm
// that run in Envoy.
//
//	corsctl check CONFIG.json
//	corsctl explain CONFIG.json -origin O -method M [-header K:V]... [-authority H -path P]
//	corsctl replay -config CONFIG.json [-wasm build/cors.wasm]
//	corsctl serve -config CONFIG.json -upstream URL [-listen 127.0.0.1:8080] [-wasm build/cors.wasm]
package main

import (
	"fmt"
	"io"
	"os"
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
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "corsctl: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd.run(args[1:], stdin, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: corsctl <command> [flags]")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-8s %s\n", name, commands[name].summary)
	}
}
