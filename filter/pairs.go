package main

import (
	"encoding/binary"
	"slices"
	"unsafe"

	"github.com/corsfilter/corsfilter/internal/streq"
	"github.com/corsfilter/corsfilter/policy"
)

// Header maps in the proxy-wasm wire form: a count, then the size of each
// name and value, then each name and value followed by a NUL. The plugin
// reads and writes them in place (host_wasip1.go); this file has no host
// call, so that its tests run natively too.

// decodePairs appends the headers of a serialized header map to dst: a
// count, then the size of each name and value, then each name and value
// followed by a NUL. Names and values alias buf. ok is false when the map
// is malformed; dst then holds the headers before the fault. One loop, with
// no call per header: calls are what costs in wasm.
func decodePairs(buf []byte, dst []policy.Header) (_ []policy.Header, ok bool) {
	n, sizes, data, ok := pairsStart(buf)
	for ; ok && n > 0; n-- {
		ks := int(binary.LittleEndian.Uint32(buf[sizes:]))
		vs := int(binary.LittleEndian.Uint32(buf[sizes+4:]))
		if !pairFits(buf, data, ks, vs) {
			return dst, false
		}
		dst = append(dst, policy.Header{
			Name:  unsafe.String(&buf[data], ks),
			Value: unsafe.String(&buf[data+ks+1], vs),
		})
		sizes += 8
		data += ks + 1 + vs + 1
	}
	return dst, ok
}

// pairsStart reads a serialized map's count, and returns the offsets of
// the first header's sizes and name. ok is false when the sizes cannot fit
// in buf. An empty map may come as no buffer at all.
func pairsStart(buf []byte) (n, sizes, data int, ok bool) {
	if len(buf) < 4 {
		return 0, 0, 0, true
	}
	n = int(binary.LittleEndian.Uint32(buf))
	if n < 0 || n > len(buf) || 4+8*n > len(buf) {
		return 0, 0, 0, false
	}
	return n, 4, 4 + 8*n, true
}

// pairFits reports whether a header of name size ks and value size vs,
// its name at data, fits in buf with its NULs.
func pairFits(buf []byte, data, ks, vs int) bool {
	return ks >= 0 && vs >= 0 && ks <= len(buf) && vs <= len(buf) && data+ks+1+vs+1 <= len(buf)
}

// appendPairs serializes hs after dst, in one pass into storage sized
// once: dst's, when it is large enough, as it is after the first reply.
func appendPairs(dst []byte, hs []policy.Header) []byte {
	size := 4 + 8*len(hs)
	for _, h := range hs {
		size += len(h.Name) + 1 + len(h.Value) + 1
	}
	out := slices.Grow(dst, size)[:len(dst)+size]
	b := out[len(dst):]
	binary.LittleEndian.PutUint32(b, uint32(len(hs)))
	at, data := 4, 4+8*len(hs)
	for _, h := range hs {
		binary.LittleEndian.PutUint32(b[at:], uint32(len(h.Name)))
		binary.LittleEndian.PutUint32(b[at+4:], uint32(len(h.Value)))
		at += 8
		data += copy(b[data:], h.Name)
		b[data] = 0
		data += 1 + copy(b[data+1:], h.Value)
		b[data] = 0
		data++
	}
	return out
}

// cameBackAsSent reports whether a local reply's headers, own as
// serialized by appendPairs, come back in buf (the response's serialized
// headers) exactly as sent: after the :status pseudo-header, and before
// headers that are not Access-Control-* only, which is what Envoy hands
// back when no route adds a header and no other filter edits the reply.
// Then Decision.LocalReply would find the reply as sent and make no edit,
// and the headers need not be decoded: the check is a few comparisons of
// whole byte ranges. Any other buf, malformed ones included, returns
// false, for the full path.
func cameBackAsSent(own, buf []byte) bool {
	if len(own) < 4 {
		return false
	}
	k := int(binary.LittleEndian.Uint32(own))
	ownSizes, ownData := own[4:4+8*k], own[4+8*k:]
	n, sizes, data, ok := pairsStart(buf)
	if !ok || n < 1+k {
		return false
	}
	// First :status, with any value.
	ks := int(binary.LittleEndian.Uint32(buf[sizes:]))
	vs := int(binary.LittleEndian.Uint32(buf[sizes+4:]))
	if !pairFits(buf, data, ks, vs) || !streq.Equal(unsafe.String(&buf[data], ks), ":status") {
		return false
	}
	sizes += 8
	data += ks + 1 + vs + 1
	// Then own's k sizes and own's data, byte for byte.
	if data+len(ownData) > len(buf) ||
		!streq.Equal(str(buf[sizes:sizes+8*k]), str(ownSizes)) ||
		!streq.Equal(str(buf[data:data+len(ownData)]), str(ownData)) {
		return false
	}
	sizes += 8 * k
	data += len(ownData)
	// Then no Access-Control-* header.
	for n -= 1 + k; n > 0; n-- {
		ks := int(binary.LittleEndian.Uint32(buf[sizes:]))
		vs := int(binary.LittleEndian.Uint32(buf[sizes+4:]))
		if !pairFits(buf, data, ks, vs) || policy.IsUpstreamCORSHeader(unsafe.String(&buf[data], ks)) {
			return false
		}
		sizes += 8
		data += ks + 1 + vs + 1
	}
	return true
}

// str is b as a string, without a copy: for comparisons only.
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
