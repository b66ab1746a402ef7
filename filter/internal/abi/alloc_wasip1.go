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
	if buf := arenaAlloc(int(size)); buf != nil {
		return &buf[0] // the arena keeps it: nothing for the GC to lose
	}
	buf := make([]byte, size)
	pending = append(pending, buf)
	return &buf[0]
}

// The arena serves proxy_on_memory_allocate during a stream's header
// callbacks, where the host hands over the header maps: one buffer, kept
// and reused, instead of a heap object per stream. A 64 KiB header would
// otherwise be a large object allocated, zeroed and collected on every
// request, which made such a request cost 2.4x an ordinary one. What the
// arena holds is valid only until the callback returns: the filter copies
// what it keeps (policy.Decision.Detach).
var (
	arena    []byte
	arenaOff int  // bytes handed out in the current callback
	arenaOn  bool // inside a stream header callback
)

// maxArena bounds the arena; a larger request falls back to the heap.
const maxArena = 1 << 20

// arenaAlloc returns n bytes of the arena, or nil when the arena is off or
// full. The arena grows only when it is empty, so that no buffer handed out
// in this callback moves.
func arenaAlloc(n int) []byte {
	if !arenaOn {
		return nil
	}
	n8 := (n + 7) &^ 7
	if arenaOff+n8 > len(arena) {
		if arenaOff > 0 || n8 > maxArena {
			return nil
		}
		arena = make([]byte, min(max(n8, 2*len(arena), 4096), maxArena))
	}
	b := arena[arenaOff : arenaOff+n : arenaOff+n]
	arenaOff += n8
	return b
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
	if arenaOff > 0 {
		// Handed out from the arena in this callback: within what was
		// handed out, or not ours.
		base := uint32(uintptr(unsafe.Pointer(&arena[0])))
		if addr >= base && addr-base < uint32(arenaOff) {
			off := int(addr - base)
			if int(size) > arenaOff-off {
				return nil, 0, false
			}
			return &arena[off], int(size), true
		}
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
