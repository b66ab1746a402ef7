package policy

import (
	"errors"
	"strconv"
	"strings"
)

// Reason classifies a configuration error. The vocabulary is closed, so tests
// and tools can match on it rather than on message text.
type Reason string

// The reasons a configuration is refused.
const (
	ReasonInvalidJSON     Reason = "invalid_json"   // the document is not valid JSON
	ReasonUnknownKey      Reason = "unknown_key"    // a key this schema does not define
	ReasonDuplicateKey    Reason = "duplicate_key"  // a key that appears twice in one object
	ReasonWrongType       Reason = "wrong_type"     // a value of the wrong JSON type
	ReasonMissing         Reason = "missing"        // a required key is absent
	ReasonNoOrigins       Reason = "no_origins"     // a rule allows no origin at all
	ReasonInvalidOrigin   Reason = "invalid_origin" // not an origin or origin pattern
	ReasonNonCanonical    Reason = "non_canonical"  // an origin in a form browsers never send
	ReasonWildcard        Reason = "misplaced_wildcard"
	ReasonPublicSuffix    Reason = "public_suffix"   // a wildcard over a public suffix, with credentials
	ReasonNullOrigin      Reason = "null_origin"     // "null" without its opt-in
	ReasonCredentials     Reason = "credentials"     // a wildcard or insecure origin with credentials
	ReasonTooBroad        Reason = "too_broad"       // a regex matching origins of several sites, with credentials
	ReasonTooComplex      Reason = "too_complex"     // a regex whose containment could not be proven in bounds
	ReasonPrivateNetwork  Reason = "private_network" // private network access for origins anyone can register
	ReasonInvalidRegex    Reason = "invalid_regex"   // a regex that does not compile or is not anchored
	ReasonInvalidMethod   Reason = "invalid_method"  // not a method token, or not as browsers send it
	ReasonForbiddenMethod Reason = "forbidden_method"
	ReasonInvalidHeader   Reason = "invalid_header" // not a header-name token
	ReasonForbiddenHeader Reason = "forbidden_header"
	ReasonOutOfRange      Reason = "out_of_range"    // a number outside its range
	ReasonInvalidValue    Reason = "invalid_value"   // an enumerated value not in its set
	ReasonInvalidName     Reason = "invalid_name"    // a rule name that is empty or not [A-Za-z0-9_-]
	ReasonDuplicateName   Reason = "duplicate_name"  // two rules with the same name
	ReasonInvalidMatch    Reason = "invalid_match"   // a host, path or route matcher that is malformed
	ReasonTooManyErrors   Reason = "too_many_errors" // more errors than are worth listing
	ReasonOverBudget      Reason = "over_budget"     // the configuration exceeds a budget on its compiled size or proof work
)

// Error is one problem found in a plugin configuration. Parse joins every
// Error it finds with errors.Join; use errors.As (or a type switch over the
// joined errors) to inspect them.
type Error struct {
	Path   string // JSON path of the offending value, e.g. "rules[2].allowed_origins[0]"; "" for the document
	Value  string // the offending value as written, "" when not applicable
	Reason Reason
	Msg    string // what is wrong and, for policy violations, what to do instead
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

// errs accumulates configuration errors.
type errs []error

func (es *errs) add(path string, reason Reason, value, msg string) {
	if len(value) > maxValueLen {
		value = value[:maxValueLen] + "…"
	}
	*es = append(*es, &Error{Path: path, Value: value, Reason: reason, Msg: msg})
}

// joined returns the errors as one, listing at most maxErrors of them.
func (es errs) joined() error {
	if len(es) > maxErrors {
		more := &Error{Reason: ReasonTooManyErrors, Msg: "and " + strconv.Itoa(len(es)-maxErrors) + " more errors"}
		es = append(es[:maxErrors:maxErrors], more)
	}
	return errors.Join(es...)
}

// join appends an index or a key to a JSON path.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

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
