module github.com/tidwall/gjson

go 1.23

require (
	github.com/tidwall/match v1.1.1
	github.com/tidwall/pretty v1.2.0
)

// The tests run against the patched pretty that the project ships (see
// PATCHED.md); the project's own go.mod replaces both modules.
replace github.com/tidwall/pretty => ../pretty
