package host

import (
	"encoding/binary"
	"errors"
	"strings"
)

// Header is one header field. Header maps hold names in lower case, as
// Envoy's codecs deliver them and as its LowerCaseString keys force them.
type Header struct {
	Name  string
	Value string
}

// EncodePairs serializes headers as Envoy does for proxy_get_header_map_pairs
// and proxy_send_local_response: a little-endian u32 count, a (key size,
// value size) u32 pair per header, then each key and each value followed by
// a NUL byte.
func EncodePairs(h []Header) []byte { return appendPairs(nil, h) }

func appendPairs(dst []byte, h []Header) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(h)))
	for _, kv := range h {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(kv.Name)))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(kv.Value)))
	}
	for _, kv := range h {
		dst = append(dst, kv.Name...)
		dst = append(dst, 0)
		dst = append(dst, kv.Value...)
		dst = append(dst, 0)
	}
	return dst
}

// errPairs reports a malformed serialized header map.
var errPairs = errors.New("host: malformed serialized header map")

// DecodePairs parses the serialization of [EncodePairs], checking every size
// and NUL terminator against the buffer, as Envoy does before using a map a
// guest passed in. An empty buffer is an empty map.
func DecodePairs(b []byte) ([]Header, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) < 4 {
		return nil, errPairs
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n)*8 > uint64(len(b)-4) {
		return nil, errPairs
	}
	sizes := b[4 : 4+8*int(n)]
	// One copy of the names and values, which the headers slice: a
	// string per name and per value made the host's side of a local
	// reply cost more than the guest's.
	data := string(b[4+8*int(n):])
	out := make([]Header, 0, n)
	for i := range int(n) {
		ks := uint64(binary.LittleEndian.Uint32(sizes[8*i:]))
		vs := uint64(binary.LittleEndian.Uint32(sizes[8*i+4:]))
		if ks+1+vs+1 > uint64(len(data)) || data[ks] != 0 || data[ks+1+vs] != 0 {
			return nil, errPairs
		}
		out = append(out, Header{Name: data[:ks], Value: data[ks+1 : ks+1+vs]})
		data = data[ks+1+vs+1:]
	}
	return out, nil
}

// headerMap is one of a stream's header maps, in order, names lower case.
type headerMap struct {
	h []Header
	// inline holds the names whose repeated lines Envoy joins into one
	// (see [requestInline]); nil keeps every line apart.
	inline map[string]bool
}

// requestInline and responseInline are the headers Envoy registers as
// inline ("O(1)") headers that a CORS filter reads or writes. Envoy keeps
// one entry per inline header: a repeated line is joined to the first with
// "," (HeaderMapImpl::insertByKey and addViaMove, as the HTTP/1 and HTTP/2
// codecs build the map; appendToHeader skips an empty value), and adding
// one (HeaderMapImpl::addCopy: proxy_add_header_map_value, a local reply's
// headers, a route's response_headers_to_add) appends to the existing
// value. So a request with two Origin lines reaches the plugin as one
// "Origin: a,b". The CORS headers are registered by Envoy's CORS filter
// (source/extensions/filters/http/cors/cors_filter.cc), which every Envoy
// build links whether or not it is configured; X-Forwarded-Proto is one of
// Envoy's own inline request headers (envoy/http/header_map.h), and Vary is
// registered by the compressor filter
// (source/extensions/filters/http/common/compressor/compressor.cc).
// Envoy has more inline headers (content-length, host, …); these are the
// ones the plugin reads or writes.
var (
	requestInline = map[string]bool{
		"origin":                                 true,
		"access-control-request-method":          true,
		"access-control-request-headers":         true,
		"access-control-request-private-network": true,
		"x-forwarded-proto":                      true,
	}
	responseInline = map[string]bool{
		"access-control-allow-origin":          true,
		"access-control-allow-credentials":     true,
		"access-control-allow-methods":         true,
		"access-control-allow-headers":         true,
		"access-control-max-age":               true,
		"access-control-expose-headers":        true,
		"access-control-allow-private-network": true,
		"vary":                                 true,
	}
)

func newHeaderMap(h []Header, extra int) *headerMap {
	m := &headerMap{h: make([]Header, 0, len(h)+extra)}
	for _, kv := range h {
		m.h = append(m.h, Header{Name: strings.ToLower(kv.Name), Value: kv.Value})
	}
	return m
}

// equalLower reports whether key, lower-cased, equals the lower-case name.
func equalLower(name string, key []byte) bool {
	if len(name) != len(key) {
		return false
	}
	for i := range len(key) {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// get returns the first value of key, as proxy_get_header_map_value does.
func (m *headerMap) get(key []byte) (string, bool) {
	for _, kv := range m.h {
		if equalLower(kv.Name, key) {
			return kv.Value, true
		}
	}
	return "", false
}

// lookup is get for a string key.
func (m *headerMap) lookup(key string) (string, bool) { return m.get([]byte(key)) }

// add appends a header (Envoy's HeaderMap::addCopy): a new line, or, for
// an inline header already present, value joined to its one line with ","
// (nothing, when value is empty).
func (m *headerMap) add(name, value string) {
	name = strings.ToLower(name)
	if m.inline[name] {
		for i := range m.h {
			if m.h[i].Name != name {
				continue
			}
			switch {
			case value == "":
			case m.h[i].Value == "":
				m.h[i].Value = value
			default:
				m.h[i].Value += "," + value
			}
			return
		}
	}
	m.h = append(m.h, Header{Name: name, Value: value})
}

// replace sets the first header of that name to value and removes the
// others, or appends it when absent (Envoy's HeaderMap::setCopy).
func (m *headerMap) replace(name, value string) {
	name = strings.ToLower(name)
	found := false
	out := m.h[:0]
	for _, kv := range m.h {
		if kv.Name == name {
			if found {
				continue
			}
			found = true
			kv.Value = value
		}
		out = append(out, kv)
	}
	m.h = out
	if !found {
		m.h = append(m.h, Header{Name: name, Value: value})
	}
}

// remove removes every header of that name.
func (m *headerMap) remove(name string) {
	name = strings.ToLower(name)
	out := m.h[:0]
	for _, kv := range m.h {
		if kv.Name != name {
			out = append(out, kv)
		}
	}
	clear(m.h[len(out):])
	m.h = out
}

// set replaces the whole map, as proxy_set_header_map_pairs does.
func (m *headerMap) set(h []Header) {
	m.h = m.h[:0]
	for _, kv := range h {
		m.add(kv.Name, kv.Value)
	}
}

// regular returns the headers without pseudo-headers, as a copy.
func (m *headerMap) regular() []Header {
	out := make([]Header, 0, len(m.h))
	for _, kv := range m.h {
		if !strings.HasPrefix(kv.Name, ":") {
			out = append(out, kv)
		}
	}
	return out
}
