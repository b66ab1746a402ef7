//go:build !wasip1

package main

import "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"

func replaceRequestPath(path []byte) error {
	return proxywasm.ReplaceHttpRequestHeader(":path", string(path))
}
