// Package policy parses, validates and compiles the CORS plugin
// configuration, and decides what to do with each request.
//
// It is the whole brain of the filter and depends on neither the proxy-wasm
// SDK nor any runtime: [Parse] turns the JSON configuration into an
// immutable [Policy] (or refuses it, listing every problem), and
// [Policy.Decide] turns a [Request] into a [Decision], a plain value that
// the filter only translates into host calls.
//
// The lifecycle follows caddy's modules: decode strictly, validate and
// compile each field in one pass, then serve without locks.
package policy
