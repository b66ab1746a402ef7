package policy

import (
	"slices"
	"strings"

	"github.com/corsfilter/corsfilter/policy/internal/ascii"
	"github.com/corsfilter/corsfilter/policy/internal/sites"
	"github.com/tidwall/gjson"
)

// This file reads the JSON document strictly: objects must hold only known
// keys, once each, and every value must have the JSON type its key expects;
// nothing is coerced. What the values mean is decoded in fields.go.

// decoder walks a gjson document and collects every error.
type decoder struct {
	errs     errs
	warnings []string
	warned   map[string]bool // warnings given, so that inherited values warn once

	budget     *int   // grants' max_verifications_per_second: the VM's (grants.go)
	budgetPath string // where it was given first; "": nowhere

	regexBytes int          // automaton tables compiled so far
	proofs     sites.Budget // proof work left
	dfaWork    int          // word operations left to build origin regexes' automata
}

// Out of line: configuration code, for the size of cors.wasm.
//
//go:noinline
func (d *decoder) warn(path, msg string) {
	if path != "" {
		msg = path + ": " + msg
	}
	msg = "cors: " + msg
	if d.warned[msg] {
		return
	}
	if d.warned == nil {
		d.warned = map[string]bool{}
	}
	d.warned[msg] = true
	d.warnings = append(d.warnings, msg)
}

// object iterates over the members of a JSON object, reporting a wrong type,
// duplicate keys and keys outside known.
func (d *decoder) object(v gjson.Result, path string, known []string, each func(key string, v gjson.Result, path string)) bool {
	if !v.IsObject() {
		d.errs.add(orRoot(path), ProblemWrongType, "", "must be an object, not "+typeName(v))
		return false
	}
	seen := make(map[string]bool)
	v.ForEach(func(k, val gjson.Result) bool {
		key := k.Str // a key is a string: Str, not String(), which links float formatting into cors.wasm
		p := field(path, key)
		switch {
		case seen[key]:
			d.errs.add(p, ProblemDuplicateKey, "", "duplicate key")
		case !slices.Contains(known, key):
			msg := "unknown key"
			if s := suggest(key, known); s != "" {
				msg += " (did you mean \"" + s + "\"?)"
			}
			d.errs.add(p, ProblemUnknownKey, "", msg)
		default:
			each(key, val, p)
		}
		seen[key] = true
		return true
	})
	return true
}

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

// suggest returns the known key closest to key, if it is a likely typo.
func suggest(key string, known []string) string { return Closest(key, known) }

// Out of line: configuration code, for the size of cors.wasm.
//
//go:noinline
func typeName(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return "null"
	case gjson.False, gjson.True:
		return "a boolean"
	case gjson.Number:
		return "a number"
	case gjson.String:
		return "a string"
	}
	if v.IsArray() {
		return "an array"
	}
	return "an object"
}

func (d *decoder) boolean(v gjson.Result, path string) *bool {
	if v.Type != gjson.True && v.Type != gjson.False {
		d.errs.add(path, ProblemWrongType, "", "must be a boolean, not "+typeName(v))
		return nil
	}
	b := v.Type == gjson.True
	return &b
}

// integer decodes a JSON number that must be an integer in [lo, hi].
func (d *decoder) integer(v gjson.Result, path string, lo, hi int) *int {
	if v.Type != gjson.Number {
		d.errs.add(path, ProblemWrongType, "", "must be an integer, not "+typeName(v))
		return nil
	}
	n, ok := ascii.Atoi(v.Raw)
	if !ok {
		if strings.ContainsAny(v.Raw, ".eE") {
			d.errs.add(path, ProblemWrongType, v.Raw, "must be an integer")
		} else {
			d.errs.add(path, ProblemOutOfRange, v.Raw, "must be between "+itoa(lo)+" and "+itoa(hi))
		}
		return nil
	}
	if n < lo || n > hi {
		d.errs.add(path, ProblemOutOfRange, v.Raw, "must be between "+itoa(lo)+" and "+itoa(hi))
		return nil
	}
	return &n
}

func (d *decoder) str(v gjson.Result, path string) (string, bool) {
	if v.Type != gjson.String {
		d.errs.add(path, ProblemWrongType, "", "must be a string, not "+typeName(v))
		return "", false
	}
	return v.Str, true
}

// stringList decodes an array of strings, calling each for every valid element.
// An empty array is an error unless allowEmpty: a policy list may be empty,
// meaning "none", but a match list may not (absent means "any").
func (d *decoder) stringList(v gjson.Result, path string, allowEmpty bool, each func(s, path string)) bool {
	if !v.IsArray() {
		d.errs.add(path, ProblemWrongType, "", "must be an array of strings, not "+typeName(v))
		return false
	}
	i := 0
	v.ForEach(func(_, e gjson.Result) bool {
		p := index(path, i)
		i++
		if s, ok := d.str(e, p); ok {
			each(s, p)
		}
		return true
	})
	if i == 0 && !allowEmpty {
		d.errs.add(path, ProblemMissing, "", "must not be empty (remove the key instead)")
		return false
	}
	return true
}

// tooDeep reports whether JSON nests arrays and objects deeper than
// maxDepth. It runs before any recursive parsing, so that a hostile document
// cannot overflow the stack, which Go cannot recover from.
func tooDeep(data []byte) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > maxDepth {
				return true
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return false
}
