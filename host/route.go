package host

import (
	"strconv"
	"strings"
)

// This file builds responses as Envoy builds them around a filter: the
// route's response_headers_to_add, and local replies.

// HeaderAction is how Envoy adds one of a route's response_headers_to_add:
// its append_action (config.core.v3.HeaderValueOption).
type HeaderAction uint8

const (
	// AppendIfExistsOrAdd adds a line, or, for a header Envoy keeps inline
	// (Access-Control-Allow-Origin, Vary, …), joins the value to the one
	// already there with ",". Envoy's default.
	AppendIfExistsOrAdd HeaderAction = iota
	// AddIfAbsent adds the header only when the response has none.
	AddIfAbsent
	// OverwriteIfExistsOrAdd replaces the header's values, or adds it.
	OverwriteIfExistsOrAdd
	// OverwriteIfExists replaces the header's values when there are some.
	OverwriteIfExists
)

// HeaderToAdd is one entry of a route's or a virtual host's
// response_headers_to_add. An empty value is skipped, as Envoy skips it
// unless keep_empty_value is set.
type HeaderToAdd struct {
	Name, Value string
	Action      HeaderAction
}

// addHeaders applies response_headers_to_add to m, in order, as Envoy's
// HeaderParser::evaluateHeaders does.
func (m *headerMap) addHeaders(add []HeaderToAdd) {
	for _, a := range add {
		if a.Value == "" {
			continue
		}
		_, exists := m.lookup(strings.ToLower(a.Name))
		switch a.Action {
		case AppendIfExistsOrAdd:
			m.add(a.Name, a.Value)
		case AddIfAbsent:
			if !exists {
				m.add(a.Name, a.Value)
			}
		case OverwriteIfExistsOrAdd:
			m.replace(a.Name, a.Value)
		case OverwriteIfExists:
			if exists {
				m.replace(a.Name, a.Value)
			}
		}
	}
}

// localReplyMap builds a local reply's header map as Envoy's sendLocalReply
// does (FilterManager::sendLocalReplyViaFilterChain and
// Utility::sendLocalReply): the status, then the route's
// response_headers_to_add (finalizeResponseHeaders runs first), then the
// replying filter's headers (its modify_headers, addCopy: joined to an
// inline header the route added), then content-length and, without a
// content-type, content-type: text/plain when there is a body.
func localReplyMap(inline map[string]bool, status int, route []HeaderToAdd, headers []Header, body []byte) *headerMap {
	m := &headerMap{h: make([]Header, 0, 1+len(route)+len(headers)+2), inline: inline}
	m.h = append(m.h, Header{":status", strconv.Itoa(status)})
	m.addHeaders(route)
	for _, kv := range headers {
		m.add(kv.Name, kv.Value)
	}
	if len(body) > 0 {
		m.replace("content-length", strconv.Itoa(len(body)))
		if _, ok := m.lookup("content-type"); !ok {
			m.add("content-type", "text/plain")
		}
	}
	return m
}

// responseMap builds an upstream response's header map as Envoy hands it
// to the encoder filters: the codec's map (repeated inline headers joined),
// then the route's response_headers_to_add (the router's
// finalizeResponseHeaders, before any encoder filter runs).
func responseMap(inline map[string]bool, status int, route []HeaderToAdd, headers []Header) *headerMap {
	m := &headerMap{h: make([]Header, 0, 1+len(headers)+len(route)+8), inline: inline}
	m.h = append(m.h, Header{":status", strconv.Itoa(status)})
	for _, kv := range headers {
		m.add(kv.Name, kv.Value)
	}
	m.addHeaders(route)
	return m
}

// LocalReply is what the client receives when a filter answers locally and
// no encoder filter changes it, as Envoy's sendLocalReply builds it: the
// status, the filter's headers (repeated inline headers joined), then
// content-length and content-type: text/plain when there is a body.
func LocalReply(status int, headers []Header, body []byte) Response {
	return RouteLocalReply(status, nil, headers, body)
}

// RouteLocalReply is [LocalReply] on a route with response_headers_to_add,
// which Envoy applies before the filter's own headers: it is what a filter's
// response callback sees of a local reply.
func RouteLocalReply(status int, route []HeaderToAdd, headers []Header, body []byte) Response {
	m := localReplyMap(responseInline, status, route, headers, body)
	return Response{Status: status, Headers: m.regular(), Body: body}
}

// RouteResponse is what a filter's response callback sees of an upstream's
// response on a route with response_headers_to_add: repeated inline headers
// joined, then the route's headers added. A nil route only joins.
func RouteResponse(resp Response, route []HeaderToAdd) Response {
	status := resp.Status
	if status == 0 {
		status = 200
	}
	m := responseMap(responseInline, status, route, resp.Headers)
	resp.Status, resp.Headers = status, m.regular()
	return resp
}
