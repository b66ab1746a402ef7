//go:build wasip1

package abi

import "unsafe"

// pending holds every buffer handed to the host by proxy_on_memory_allocate
// until the host call that asked for it has returned and its result has been
// claimed. Before that, the only reference to the buffer is a 32-bit address
// in the host's hands, which the garbage collector cannot see: a second
// allocation in the same host call could otherwise collect the first.
var pending [][]byte

// proxyOnMemoryAllocate hands the host a Go buffer of size bytes. Envoy
// calls it while it answers a host call that returns data (a header, a
// property, a buffer), and allows only proxy_log, fd_write and clock_time_get
// from inside it; this function makes no host call at all.
//
//go:wasmexport proxy_on_memory_allocate
func proxyOnMemoryAllocate(size uint32) *byte {
	if size == 0 {
		size = 1 // &buf[0] must exist; the host still reports size 0
	}
	buf := make([]byte, size)
	pending = append(pending, buf)
	return &buf[0]
}

// claim finds the pending buffer that starts at addr, the address the host
// wrote into an out-parameter, and returns it as a Go pointer with size. An
// address of 0 with size 0 is an empty result. ok is false when addr is not
// the start of a buffer we allocated, or size exceeds it: the host's answer
// is then not trusted. Looking the address up, instead of converting an
// integer to a pointer, keeps the result a pointer the GC knows.
func claim(addr, size uint32) (p *byte, n int, ok bool) {
	if addr == 0 {
		return nil, 0, size == 0
	}
	for _, buf := range pending {
		if uint32(uintptr(unsafe.Pointer(&buf[0]))) == addr && int(size) <= len(buf) {
			return &buf[0], int(size), true
		}
	}
	return nil, 0, false
}

// releasePending forgets the pending buffers once the outermost host call
// has returned: what the SDK kept is reachable through its own pointers.
func releasePending() {
	clear(pending)
	pending = pending[:0]
}
