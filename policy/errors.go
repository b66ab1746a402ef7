package policy

import (
	"errors"
	"iter"
	"strings"
)

// Problem classifies a configuration error: what is wrong, from a closed
// vocabulary, so tests and tools can match on it rather than on message text.
// (A Decision's Reason, by contrast, says why a request was answered as it
// was.)
type Problem string

// The problems for which a configuration is refused.
const (
	ProblemInvalidJSON     Problem = "invalid_json"   // the document is not valid JSON
	ProblemUnknownKey      Problem = "unknown_key"    // a key this schema does not define
	ProblemDuplicateKey    Problem = "duplicate_key"  // a key that appears twice in one object
	ProblemWrongType       Problem = "wrong_type"     // a value of the wrong JSON type
	ProblemMissing         Problem = "missing"        // a required key is absent
	ProblemNoOrigins       Problem = "no_origins"     // a rule allows no origin at all
	ProblemInvalidOrigin   Problem = "invalid_origin" // not an origin or origin pattern
	ProblemNonCanonical    Problem = "non_canonical"  // an origin in a form browsers never send
	ProblemWildcard        Problem = "misplaced_wildcard"
	ProblemPublicSuffix    Problem = "public_suffix"   // a wildcard over a public suffix, with credentials
	ProblemNullOrigin      Problem = "null_origin"     // "null" without its opt-in
	ProblemCredentials     Problem = "credentials"     // a wildcard or insecure origin with credentials
	ProblemTooBroad        Problem = "too_broad"       // a regex matching origins of several sites, with credentials
	ProblemTooComplex      Problem = "too_complex"     // a regex whose containment could not be proven in bounds
	ProblemPrivateNetwork  Problem = "private_network" // private network access for origins anyone can register
	ProblemInvalidRegex    Problem = "invalid_regex"   // a regex that does not compile or is not anchored
	ProblemInvalidMethod   Problem = "invalid_method"  // not a method token, or not as browsers send it
	ProblemForbiddenMethod Problem = "forbidden_method"
	ProblemInvalidHeader   Problem = "invalid_header" // not a header-name token
	ProblemForbiddenHeader Problem = "forbidden_header"
	ProblemOutOfRange      Problem = "out_of_range"       // a number outside its range
	ProblemInvalidValue    Problem = "invalid_value"      // an enumerated value not in its set
	ProblemInvalidName     Problem = "invalid_name"       // a rule name that is empty or not [A-Za-z0-9_-]
	ProblemDuplicateName   Problem = "duplicate_name"     // two rules with the same name, or with names Prometheus reads as one
	ProblemInvalidMatch    Problem = "invalid_match"      // a host, path or route matcher that is malformed
	ProblemTooManyErrors   Problem = "too_many_errors"    // more errors than are worth listing
	ProblemOverBudget      Problem = "over_budget"        // the configuration exceeds a budget on its compiled size or proof work
	ProblemUnknownSet      Problem = "unknown_origin_set" // allowed_origin_sets names no origin source
)

// Error is one problem found in a plugin configuration. Parse joins every
// Error it finds with errors.Join; use errors.As (or a type switch over the
// joined errors) to inspect them.
type Error struct {
	Path    string // JSON path of the offending value, e.g. "rules[2].allowed_origins[0]"; "" for the document
	Value   string // the offending value as written, "" when not applicable
	Problem Problem
	Msg     string // what is wrong and, for policy violations, what to do instead
}

// Error returns "cors: <path>: <message>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cors: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Value != "" {
		b.WriteString(Quote(e.Value))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors returns an iterator over the configuration errors in err, as Parse
// returns them: err itself when it is an *Error, else every *Error in its
// tree of joined (errors.Join) and wrapped errors, depth first, in the order
// Parse found them. Errors of other types are skipped; Parse returns none.
func Errors(err error) iter.Seq[*Error] {
	return func(yield func(*Error) bool) { walkErrors(err, yield) }
}

// walkErrors yields the *Errors in err's tree and reports whether to go on.
func walkErrors(err error, yield func(*Error) bool) bool {
	switch err := err.(type) {
	case *Error:
		return yield(err)
	case interface{ Unwrap() []error }:
		for _, e := range err.Unwrap() {
			if !walkErrors(e, yield) {
				return false
			}
		}
	case interface{ Unwrap() error }:
		return walkErrors(err.Unwrap(), yield)
	}
	return true
}

// errs accumulates configuration errors.
type errs []error

// Not inlined: it is called from some eighty places in the configuration
// code, which runs once per load; inlined, each call cost cors.wasm code.
//
//go:noinline
func (es *errs) add(path string, problem Problem, value, msg string) {
	if len(value) > maxValueLen {
		value = value[:maxValueLen] + "…"
	}
	*es = append(*es, &Error{Path: path, Value: value, Problem: problem, Msg: msg})
}

// joined returns the errors as one, listing at most maxErrors of them.
func (es errs) joined() error {
	if len(es) > maxErrors {
		more := &Error{Problem: ProblemTooManyErrors, Msg: "and " + itoa(len(es)-maxErrors) + " more errors"}
		es = append(es[:maxErrors:maxErrors], more)
	}
	return errors.Join(es...)
}

// index appends an array index to a JSON path.
//
// Out of line: configuration code, for the size of cors.wasm.
//
//go:noinline
func index(path string, i int) string { return path + "[" + itoa(i) + "]" }

// field appends a key to a JSON path. A key that is not a plain name (an
// unknown key may hold anything, a newline included) is written quoted in
// brackets, so that an error stays on one line.
func field(path, key string) string {
	if !plainKey(key) {
		if len(key) > maxValueLen {
			key = key[:maxValueLen] + "…"
		}
		return orRoot(path) + "[" + Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return k != ""
}
