//go:build !wasm

package streq

// Equal reports whether a and b are the same string.
func Equal(a, b string) bool { return a == b }
