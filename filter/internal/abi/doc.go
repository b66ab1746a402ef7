// Package abi lets proxy-wasm-go-sdk v0.24.0 run as a plugin built with the
// standard Go toolchain (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared).
//
// The SDK targets TinyGo: under the standard toolchain it compiles a mock
// host, and its callbacks carry TinyGo's //export, which Go ignores. The
// resulting module would export no proxy_on_* callback and import no
// env.proxy_* host call. This package closes both gaps without changing the
// SDK:
//
//   - exports_wasip1.go exports every proxy-wasm callback with
//     //go:wasmexport and forwards it, through //go:linkname, to the SDK's
//     unexported callback in proxywasm/internal, converting int32 to int.
//   - imports_wasip1.go declares the 29 env.proxy_* host calls with
//     //go:wasmimport, and host_wasip1.go puts them behind a type whose method
//     set mirrors internal.ProxyWasmHost (uint32 in place of the SDK's named
//     uint32 types), registered as the SDK's "mock" host.
//   - alloc_wasip1.go implements proxy_on_memory_allocate, keeping each
//     buffer reachable until the host call that asked for it has returned.
//
// A plugin imports this package for its side effects:
//
//	import _ "github.com/corsfilter/corsfilter/filter/internal/abi"
//
// Outside wasip1 the package is empty, so native tests keep using the SDK's
// proxytest emulator. The compiler checks neither linknamed signatures nor the
// mirrored interface; drift_test.go does, by parsing the SDK source in the
// module cache.
package abi
