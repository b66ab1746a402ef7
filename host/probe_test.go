package host

import (
	"bytes"
	"encoding/binary"
)

// This file assembles tiny proxy-wasm modules byte by byte, so the host's
// strictness (restricted callbacks, exact imports, poll_oneoff results) can
// be tested with guests that misbehave on purpose.

// Wasm opcodes used by the probe modules.
const (
	opCall     = 0x10
	opDrop     = 0x1a
	opLocalGet = 0x20
	opLocalSet = 0x21
	opI32Load  = 0x28
	opI32Store = 0x36
	opI32Const = 0x41
	opI32Add   = 0x6a
	opEnd      = 0x0b
	tI32       = 0x7f
)

func uleb(n uint32) []byte {
	var b []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if n == 0 {
			return b
		}
	}
}

func sleb(n int32) []byte {
	var b []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if (n == 0 && c&0x40 == 0) || (n == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func name(s string) []byte { return append(uleb(uint32(len(s))), s...) }

func vec(items ...[]byte) []byte {
	out := uleb(uint32(len(items)))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

func section(id byte, content []byte) []byte {
	return append(append([]byte{id}, uleb(uint32(len(content)))...), content...)
}

func i32c(n int32) []byte { return append([]byte{opI32Const}, sleb(n)...) }

func call(idx uint32) []byte { return append([]byte{opCall}, uleb(idx)...) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Import indices of the probe module.
const (
	impGetProperty = 0
	impLog         = 1
	impPollOneoff  = 2
)

// probe describes a probe module's variations.
type probe struct {
	initGetsProperty   bool // _initialize calls proxy_get_property (prohibited)
	initLogs           bool // _initialize calls proxy_log (allowed)
	mallocGetsProperty bool // proxy_on_memory_allocate calls proxy_get_property (prohibited)
	extraImport        bool // imports wasi_snapshot_preview1.fd_read (Envoy lacks it)
}

// Memory layout: [0] heap pointer, [16]/[20] returned pointer and size,
// [24] proxy_get_property status, [28] poll_oneoff errno, [32] nevents,
// [100] "xds\x00route_name", [120] "hello".
const (
	addrRet      = 16
	addrSize     = 20
	addrPropStat = 24
	addrPollErr  = 28
	addrNevents  = 32
	addrPath     = 100
	addrHello    = 120
)

// getProperty calls proxy_get_property(xds.route_name) and leaves the status.
var getProperty = cat(i32c(addrPath), i32c(14), i32c(addrRet), i32c(addrSize), call(impGetProperty))

// build assembles the probe module. On request headers it stores the
// xds.route_name lookup status, logs the value at info, and stores
// poll_oneoff's errno.
func (p probe) build() []byte {
	types := vec(
		[]byte{0x60, 4, tI32, tI32, tI32, tI32, 1, tI32}, // 0 (iiii)->i
		[]byte{0x60, 3, tI32, tI32, tI32, 1, tI32},       // 1 (iii)->i
		[]byte{0x60, 0, 0},                               // 2 ()->()
		[]byte{0x60, 1, tI32, 1, tI32},                   // 3 (i)->i
		[]byte{0x60, 2, tI32, tI32, 0},                   // 4 (ii)->()
		[]byte{0x60, 2, tI32, tI32, 1, tI32},             // 5 (ii)->i
		[]byte{0x60, 1, tI32, 0},                         // 6 (i)->()
	)
	imports := [][]byte{
		cat(name("env"), name("proxy_get_property"), []byte{0, 0}),
		cat(name("env"), name("proxy_log"), []byte{0, 1}),
		cat(name("wasi_snapshot_preview1"), name("poll_oneoff"), []byte{0, 0}),
	}
	if p.extraImport {
		imports = append(imports, cat(name("wasi_snapshot_preview1"), name("fd_read"), []byte{0, 0}))
	}
	n := uint32(len(imports))
	funcTypes := []byte{2, 2, 3, 4, 5, 5, 1, 1, 3, 6, 6}
	exportNames := []string{"_initialize", "proxy_abi_version_0_2_0", "proxy_on_memory_allocate",
		"proxy_on_context_create", "proxy_on_vm_start", "proxy_on_configure", "proxy_on_request_headers",
		"proxy_on_response_headers", "proxy_on_done", "proxy_on_log", "proxy_on_delete"}

	var initBody []byte
	if p.initGetsProperty {
		initBody = append(initBody, cat(getProperty, []byte{opDrop})...)
	}
	if p.initLogs {
		initBody = append(initBody, cat(i32c(2), i32c(addrHello), i32c(5), call(impLog), []byte{opDrop})...)
	}
	var malloc []byte
	if p.mallocGetsProperty {
		malloc = cat(getProperty, []byte{opDrop})
	}
	// p = mem[0]; mem[0] = p + size; return p
	malloc = cat(malloc, i32c(0), []byte{opI32Load, 2, 0, opLocalSet, 1},
		i32c(0), []byte{opLocalGet, 1, opLocalGet, 0, opI32Add, opI32Store, 2, 0, opLocalGet, 1})
	onRequest := cat(
		i32c(addrPropStat), getProperty, []byte{opI32Store, 2, 0},
		i32c(2), i32c(addrRet), []byte{opI32Load, 2, 0}, i32c(addrSize), []byte{opI32Load, 2, 0}, call(impLog), []byte{opDrop},
		i32c(addrPollErr), i32c(0), i32c(0), i32c(1), i32c(addrNevents), call(impPollOneoff), []byte{opI32Store, 2, 0},
		i32c(0))
	bodies := [][]byte{
		initBody, nil, malloc, nil, i32c(1), i32c(1), onRequest, i32c(0), i32c(1), nil, nil,
	}
	var code [][]byte
	for i, b := range bodies {
		locals := vec()
		if i == 2 {
			locals = vec([]byte{1, tI32})
		}
		fn := cat(locals, b, []byte{opEnd})
		code = append(code, cat(uleb(uint32(len(fn))), fn))
	}
	var exports [][]byte
	for i, e := range exportNames {
		exports = append(exports, cat(name(e), []byte{0}, uleb(n+uint32(i))))
	}
	exports = append(exports, cat(name("memory"), []byte{2, 0}))
	heap := binary.LittleEndian.AppendUint32(nil, 4096)
	data := vec(
		cat([]byte{0}, i32c(0), []byte{opEnd}, vecBytes(heap)),
		cat([]byte{0}, i32c(addrPath), []byte{opEnd}, name("xds\x00route_name")),
		cat([]byte{0}, i32c(addrHello), []byte{opEnd}, name("hello")),
	)
	return cat([]byte{0, 'a', 's', 'm', 1, 0, 0, 0},
		section(1, types),
		section(2, vec(imports...)),
		section(3, vec(func() [][]byte {
			var out [][]byte
			for _, t := range funcTypes {
				out = append(out, []byte{t})
			}
			return out
		}()...)),
		section(5, vec([]byte{0, 1})),
		section(7, vec(exports...)),
		section(10, vec(code...)),
		section(11, data),
	)
}

// vecBytes wraps raw bytes as a wasm byte vector.
func vecBytes(b []byte) []byte { return append(uleb(uint32(len(b))), b...) }
