//go:build wasip1

package main

import "github.com/corsfilter/corsfilter/filter/internal/abi"

// logDebug writes a debug line from reused storage, without copying it.
func logDebug(b []byte) { abi.Log(abi.LogDebug, b) }
