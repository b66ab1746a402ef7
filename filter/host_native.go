//go:build !wasip1

package main

import (
	"errors"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/corsfilter/corsfilter/policy"
)

// The stream's host calls, natively: through the SDK, so that the SDK's
// proxytest emulator can drive the same stream logic as the plugin.

// routeNameProperty is Envoy's route name, for rules matching route_names.
var routeNameProperty = []string{"xds", "route_name"}

// registerPlugin and unregisterPlugin are no-ops natively: the SDK creates
// the streams.
func registerPlugin(uint32, *pluginContext) {}

func unregisterPlugin(uint32) {}

// readRequest gathers what Decide needs: the pseudo-headers, every value of
// the CORS request headers (the pairs call sees repeated headers), and, when
// some rule matches on it, the route name ("" when Envoy has none).
func readRequest(r *policy.Request, routes bool) error {
	hs, err := proxywasm.GetHttpRequestHeaders()
	if err != nil {
		return err
	}
	for _, kv := range hs {
		r.AddHeader(kv[0], kv[1])
	}
	if !routes {
		return nil
	}
	route, err := proxywasm.GetProperty(routeNameProperty)
	switch {
	case err == nil:
		r.RouteName = string(route)
	case !errors.Is(err, types.ErrorStatusNotFound):
		return err
	}
	return nil
}

func sendLocalReply(_ *stream, status int, hs []policy.Header, body string) error {
	pairs := make([][2]string, len(hs))
	for i, h := range hs {
		pairs[i] = [2]string{h.Name, h.Value}
	}
	return proxywasm.SendHttpResponse(uint32(status), pairs, []byte(body), -1)
}

func responseHeaders(dst []policy.Header) ([]policy.Header, error) {
	hs, err := proxywasm.GetHttpResponseHeaders()
	for _, kv := range hs {
		dst = append(dst, policy.Header{Name: kv[0], Value: kv[1]})
	}
	return dst, err
}

// localReplyHeaders is responseHeaders for the local reply of a stream;
// natively, same is always false: the policy compares (Decision.LocalReply).
func localReplyHeaders(_ *stream, dst []policy.Header) (_ []policy.Header, same bool, err error) {
	dst, err = responseHeaders(dst)
	return dst, false, err
}

// removeResponseHeader removes every value of a header, as Envoy's
// proxy_remove_header_map_value does; the SDK's emulator removes one value
// per call.
func removeResponseHeader(name string) error {
	for {
		if _, err := proxywasm.GetHttpResponseHeader(name); err != nil {
			return nil
		}
		if err := proxywasm.RemoveHttpResponseHeader(name); err != nil {
			return err
		}
	}
}

func replaceResponseHeader(name, value string) error {
	return proxywasm.ReplaceHttpResponseHeader(name, value)
}

func logDenial(r *policy.Request, d *policy.Decision) {
	proxywasm.LogDebug(string(denialLine(r, d)))
}
