//go:build !wasip1

package main

import "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

// logDebug writes a debug line.
func logDebug(b []byte) { proxywasm.LogDebug(string(b)) }
