package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/corsfilter/corsfilter/policy"
	"io"
	"strings"
)

// parseFlags parses a subcommand's arguments, flags before or after the
// positional ones. It returns the positional arguments and ok; when ok is
// false the caller exits with code: 0 after -h, -help or --help (usage on
// stdout), 2 on a bad flag (one line on stderr, with a "did you mean" for a
// mistyped flag name).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	// flag prints its own error and the whole usage on failure; corsctl
	// prints one line instead, and the usage only when asked for.
	fs.SetOutput(io.Discard)
	pos, err := parseArgsInterleaved(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return nil, 0, false
	case err != nil:
		fmt.Fprintf(stderr, "corsctl %s: %s\n", fs.Name(), flagError(fs, err))
		fmt.Fprintf(stderr, "run 'corsctl %s -h' for usage\n", fs.Name())
		return nil, 2, false
	}
	fs.SetOutput(stderr)
	return pos, 0, true
}

// flagError rewords the flag package's error, suggesting the closest
// defined flag for an unknown one.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	name, unknown := strings.CutPrefix(msg, "flag provided but not defined: -")
	if !unknown {
		return msg
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	msg = "unknown flag -" + name
	if s := closest(name, names); s != "" {
		msg += " (did you mean -" + s + "?)"
	}
	return msg
}

// parseArgsInterleaved parses flags that may come before or after positional
// arguments (`explain CONFIG.json -origin O` as well as
// `explain -origin O CONFIG.json`), which flag.Parse alone does not allow.
func parseArgsInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			// flag.Parse stopped at "--": everything after it is positional.
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// configArg returns the one configuration file of a subcommand: its
// positional argument, or the value of -config, which older scripts pass.
// On a usage error it prints one line and returns false.
func configArg(fs *flag.FlagSet, pos []string, flagValue string, stderr io.Writer) (string, bool) {
	switch {
	case len(pos) > 1:
		fmt.Fprintf(stderr, "corsctl %s: want one CONFIG file, got %d arguments: %s\n", fs.Name(), len(pos), strings.Join(pos, " "))
	case len(pos) == 1 && flagValue != "" && pos[0] != flagValue:
		fmt.Fprintf(stderr, "corsctl %s: two configurations, %s and -config %s: give one\n", fs.Name(), pos[0], flagValue)
	case len(pos) == 1:
		return pos[0], true
	case flagValue != "":
		return flagValue, true
	default:
		fmt.Fprintf(stderr, "corsctl %s: missing the CONFIG file\n", fs.Name())
	}
	fmt.Fprintf(stderr, "run 'corsctl %s -h' for usage\n", fs.Name())
	return "", false
}

// closest returns the candidate nearest to s, when it is a likely typo.
func closest(s string, candidates []string) string { return policy.Closest(s, candidates) }
