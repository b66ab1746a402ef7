// Package streq compares strings for equality, fast in wasm.
//
// Go's wasm port compares memory a byte at a time (runtime.memequal loops
// over bytes: internal/bytealg/equal_wasm.s), so every string == longer
// than a few bytes costs a call and about ten wasm instructions per byte.
// Equal compares eight bytes per load there, which halves the cost of
// comparing a header name or an origin, and quarters that of comparing a
// local reply's serialized headers. Elsewhere it is ==.
package streq
