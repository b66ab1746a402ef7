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

// pairs iterates over a serialized header map: a count, then the size of
// each name and value, then each name and value followed by a NUL. Names
// and values alias the buffer.
type pairs struct {
	buf         []byte
	n, i        int
	sizes, data int
	name, value string
	malformed   bool
}

func newPairs(buf []byte) pairs {
	if len(buf) < 4 {
		return pairs{} // an empty map may come as no buffer at all
	}
	n := int(binary.LittleEndian.Uint32(buf))
	p := pairs{buf: buf, n: n, sizes: 4, data: 4 + 8*n}
	if n < 0 || n > len(buf) || p.data > len(buf) {
		p.n, p.malformed = 0, true
	}
	return p
}

func (p *pairs) next() bool {
	if p.i >= p.n {
		return false
	}
	ks := int(binary.LittleEndian.Uint32(p.buf[p.sizes:]))
	vs := int(binary.LittleEndian.Uint32(p.buf[p.sizes+4:]))
	if ks < 0 || vs < 0 || ks > len(p.buf) || vs > len(p.buf) || p.data+ks+1+vs+1 > len(p.buf) {
		p.n, p.malformed = 0, true
		return false
	}
	p.name = unsafe.String(&p.buf[p.data], ks)
	p.value = unsafe.String(&p.buf[p.data+ks+1], vs)
	p.sizes += 8
	p.data += ks + 1 + vs + 1
	p.i++
	return true
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
	it := newPairs(buf)
	for it.next() {
		r.AddHeader(it.name, it.value)
	}
	if it.malformed {
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
	it := newPairs(buf)
	for it.next() {
		dst = append(dst, policy.Header{Name: it.name, Value: it.value})
	}
	if it.malformed {
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
