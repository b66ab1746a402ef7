//go:build wasip1

package main

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"github.com/corsfilter/corsfilter/filter/internal/abi"
	"github.com/corsfilter/corsfilter/policy"
)

// The stream's host calls, in the plugin: straight through the ABI layer,
// reading header maps in place from the buffer the host wrote and writing
// replies from reused storage, so that a stream allocates nothing.

// routeNamePath is Envoy's route name property, xds.route_name, its parts
// joined by NUL as the ABI wants.
const routeNamePath = "xds\x00route_name"

var (
	errReadHeaders  = errors.New("the host refused to read a header map")
	errBadPairs     = errors.New("the host's header map is malformed")
	errProperty     = errors.New("the host refused to read xds.route_name")
	errLocalReply   = errors.New("the host refused the local reply")
	errRemoveHeader = errors.New("the host refused to remove a header")
	errSetHeader    = errors.New("the host refused to set a header")
)

// decodePairs appends the headers of a serialized header map to dst: a
// count, then the size of each name and value, then each name and value
// followed by a NUL. Names and values alias buf. ok is false when the map
// is malformed; dst then holds the headers before the fault. One loop, with
// no call per header: calls are what costs in wasm.
func decodePairs(buf []byte, dst []policy.Header) (_ []policy.Header, ok bool) {
	if len(buf) < 4 {
		return dst, true // an empty map may come as no buffer at all
	}
	n := int(binary.LittleEndian.Uint32(buf))
	sizes, data := 4, 4+8*n
	if n < 0 || n > len(buf) || data > len(buf) {
		return dst, false
	}
	for range n {
		ks := int(binary.LittleEndian.Uint32(buf[sizes:]))
		vs := int(binary.LittleEndian.Uint32(buf[sizes+4:]))
		if ks < 0 || vs < 0 || ks > len(buf) || vs > len(buf) || data+ks+1+vs+1 > len(buf) {
			return dst, false
		}
		dst = append(dst, policy.Header{
			Name:  unsafe.String(&buf[data], ks),
			Value: unsafe.String(&buf[data+ks+1], vs),
		})
		sizes += 8
		data += ks + 1 + vs + 1
	}
	return dst, true
}

// readRequest gathers what Decide needs: the pseudo-headers, every value of
// the CORS request headers (the pairs call sees repeated headers), and, when
// some rule matches on it, the route name ("" when Envoy has none). The
// values alias the host's buffer: valid during this callback.
func readRequest(r *policy.Request, routes bool) error {
	buf, st := abi.HeaderPairs(abi.MapRequestHeaders)
	if st != abi.StatusOK {
		return errReadHeaders
	}
	hs, ok := decodePairs(buf, scratch.headers[:0])
	scratch.headers = hs
	for i := range hs {
		r.AddHeader(hs[i].Name, hs[i].Value)
	}
	if !ok {
		return errBadPairs
	}
	if !routes {
		return nil
	}
	switch v, st := abi.Property(routeNamePath); st {
	case abi.StatusOK:
		if len(v) > 0 {
			r.RouteName = unsafe.String(&v[0], len(v))
		}
	case abi.StatusNotFound:
	default:
		return errProperty
	}
	return nil
}

// sendLocalReply serializes the headers into reused storage and answers.
func sendLocalReply(status int, hs []policy.Header, body string) error {
	b := binary.LittleEndian.AppendUint32(scratch.buf[:0], uint32(len(hs)))
	for _, h := range hs {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h.Name)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h.Value)))
	}
	for _, h := range hs {
		b = append(b, h.Name...)
		b = append(b, 0)
		b = append(b, h.Value...)
		b = append(b, 0)
	}
	scratch.buf = b
	if abi.SendLocalResponse(uint32(status), b, body) != abi.StatusOK {
		return errLocalReply
	}
	return nil
}

// responseHeaders appends the response's headers to dst; they alias the
// host's buffer, valid during this callback.
func responseHeaders(dst []policy.Header) ([]policy.Header, error) {
	buf, st := abi.HeaderPairs(abi.MapResponseHeaders)
	if st != abi.StatusOK {
		return dst, errReadHeaders
	}
	dst, ok := decodePairs(buf, dst)
	if !ok {
		return dst, errBadPairs
	}
	return dst, nil
}

func removeResponseHeader(name string) error {
	if abi.RemoveHeader(abi.MapResponseHeaders, name) != abi.StatusOK {
		return errRemoveHeader
	}
	return nil
}

func replaceResponseHeader(name, value string) error {
	if abi.ReplaceHeader(abi.MapResponseHeaders, name, value) != abi.StatusOK {
		return errSetHeader
	}
	return nil
}

func logDenial(r *policy.Request, d *policy.Decision) {
	abi.Log(abi.LogDebug, denialLine(r, d))
}
