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

// readRequest gathers what Decide needs: the pseudo-headers, every value of
// the CORS request headers (the pairs call sees repeated headers), and, when
// some rule matches on it, the route name ("" when Envoy has none). The
// values alias the host's buffer: valid during this callback. The headers
// go to AddHeader straight from the buffer; before a fault, those read are
// kept.
func readRequest(r *policy.Request, routes bool) error {
	buf, st := abi.HeaderPairs(abi.MapRequestHeaders)
	if st != abi.StatusOK {
		return errReadHeaders
	}
	n, sizes, data, ok := pairsStart(buf)
	for ; ok && n > 0; n-- {
		ks := int(binary.LittleEndian.Uint32(buf[sizes:]))
		vs := int(binary.LittleEndian.Uint32(buf[sizes+4:]))
		if ok = pairFits(buf, data, ks, vs); ok {
			r.AddHeader(unsafe.String(&buf[data], ks), unsafe.String(&buf[data+ks+1], vs))
			sizes += 8
			data += ks + 1 + vs + 1
		}
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

// sent is the last local reply's headers as serialized for the host, and
// the stream that sent them: the response path compares what comes back
// with it (cameBackAsSent).
var sent struct {
	by    *stream
	pairs []byte
}

// sendLocalReply serializes the headers into reused storage and answers.
func sendLocalReply(s *stream, status int, hs []policy.Header, body string) error {
	b := appendPairs(sent.pairs[:0], hs)
	sent.by, sent.pairs = s, b
	if abi.SendLocalResponse(uint32(status), b, body) != abi.StatusOK {
		sent.by = nil
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
	return decodeResponse(buf, dst)
}

// localReplyHeaders is responseHeaders for the local reply s sent: when it
// comes back as sent (cameBackAsSent), same is true and no header is
// decoded.
func localReplyHeaders(s *stream, dst []policy.Header) (_ []policy.Header, same bool, err error) {
	buf, st := abi.HeaderPairs(abi.MapResponseHeaders)
	if st != abi.StatusOK {
		return dst, false, errReadHeaders
	}
	if sent.by == s && cameBackAsSent(sent.pairs, buf) {
		return dst, true, nil
	}
	dst, err = decodeResponse(buf, dst)
	return dst, false, err
}

func decodeResponse(buf []byte, dst []policy.Header) ([]policy.Header, error) {
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
