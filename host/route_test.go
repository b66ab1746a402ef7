package host

import (
	"reflect"
	"slices"
	"testing"
)

// TestResponseHeadersToAdd checks each append_action as Envoy's
// HeaderParser::evaluateHeaders applies it, on a map that joins inline
// headers.
func TestResponseHeadersToAdd(t *testing.T) {
	base := []Header{{":status", "200"}, {"access-control-allow-origin", "https://a.example"}, {"x", "1"}}
	cases := []struct {
		desc string
		add  HeaderToAdd
		want []Header
	}{
		{"append joins an inline header", HeaderToAdd{Name: "Access-Control-Allow-Origin", Value: "*"},
			[]Header{{":status", "200"}, {"access-control-allow-origin", "https://a.example,*"}, {"x", "1"}}},
		{"append adds a line of another header", HeaderToAdd{Name: "x", Value: "2"},
			[]Header{{":status", "200"}, {"access-control-allow-origin", "https://a.example"}, {"x", "1"}, {"x", "2"}}},
		{"add if absent, present", HeaderToAdd{Name: "x", Value: "2", Action: AddIfAbsent}, base},
		{"add if absent, absent", HeaderToAdd{Name: "y", Value: "2", Action: AddIfAbsent},
			[]Header{{":status", "200"}, {"access-control-allow-origin", "https://a.example"}, {"x", "1"}, {"y", "2"}}},
		{"overwrite", HeaderToAdd{Name: "access-control-allow-origin", Value: "*", Action: OverwriteIfExistsOrAdd},
			[]Header{{":status", "200"}, {"access-control-allow-origin", "*"}, {"x", "1"}}},
		{"overwrite if exists, absent", HeaderToAdd{Name: "y", Value: "2", Action: OverwriteIfExists}, base},
		{"an empty value is skipped", HeaderToAdd{Name: "y", Value: ""}, base},
	}
	for _, tc := range cases {
		m := &headerMap{h: slices.Clone(base), inline: responseInline}
		m.addHeaders([]HeaderToAdd{tc.add})
		if !reflect.DeepEqual(m.h, tc.want) {
			t.Errorf("%s: got %v; want %v", tc.desc, m.h, tc.want)
		}
	}
}

// TestRouteLocalReply checks a local reply as Envoy's sendLocalReply builds
// it: the route's headers first, then the filter's, joined where Envoy keeps
// the header inline, then the body's headers.
func TestRouteLocalReply(t *testing.T) {
	route := []HeaderToAdd{{Name: "Access-Control-Allow-Origin", Value: "*"}, {Name: "x-route", Value: "1"}}
	got := RouteLocalReply(204, route, []Header{{"access-control-allow-origin", "https://a.example"}, {"vary", "Origin"}}, nil)
	want := []Header{{"access-control-allow-origin", "*,https://a.example"}, {"x-route", "1"}, {"vary", "Origin"}}
	if got.Status != 204 || !reflect.DeepEqual(got.Headers, want) {
		t.Errorf("got %d %v; want 204 %v", got.Status, got.Headers, want)
	}
	got = LocalReply(403, []Header{{"x-cors-debug", "no"}}, []byte("forbidden"))
	want = []Header{{"x-cors-debug", "no"}, {"content-length", "9"}, {"content-type", "text/plain"}}
	if !reflect.DeepEqual(got.Headers, want) {
		t.Errorf("LocalReply: got %v; want %v", got.Headers, want)
	}
	up := RouteResponse(Response{Headers: []Header{{"vary", "Accept"}, {"Vary", "Origin"}}}, route)
	want = []Header{{"vary", "Accept,Origin"}, {"access-control-allow-origin", "*"}, {"x-route", "1"}}
	if up.Status != 200 || !reflect.DeepEqual(up.Headers, want) {
		t.Errorf("RouteResponse: got %d %v; want 200 %v", up.Status, up.Headers, want)
	}
}

// TestProbe_route_headers_and_an_earlier_filters_reply runs streams on a
// route with response_headers_to_add: the upstream's response gets them,
// and so does the local reply of a filter placed before the plugin, which
// the plugin sees only to log it.
func TestProbe_route_headers_and_an_earlier_filters_reply(t *testing.T) {
	var calls []string
	vm := newProbeVM(t, probe{}, WithCallTrace(func(_ *VM, export string, id uint32) {
		if id >= 2 {
			calls = append(calls, export)
		}
	}))
	route := []HeaderToAdd{{Name: "access-control-allow-origin", Value: "*"}, {Name: "x-route", Value: "r"}}
	res, err := vm.RoundTrip(Request{Method: "GET", Authority: "a", Path: "/", ResponseHeadersToAdd: route},
		func(Request) Response {
			return Response{Status: 201, Headers: []Header{{"access-control-allow-origin", "https://up.example"}}}
		})
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Values("access-control-allow-origin"); res.Status != 201 || !slices.Equal(v, []string{"https://up.example,*"}) {
		t.Errorf("upstream response: got %d %v", res.Status, res.Headers)
	}
	calls = nil
	rbac := &Response{Status: 403, Headers: []Header{{"x-rbac", "denied"}}, Body: []byte("RBAC: access denied")}
	res, err = vm.RoundTrip(Request{Method: "GET", Authority: "a", Path: "/", ResponseHeadersToAdd: route, EarlierReply: rbac},
		func(Request) Response { t.Fatal("an earlier filter's reply reached the upstream"); return Response{} })
	if err != nil {
		t.Fatal(err)
	}
	want := []Header{{"access-control-allow-origin", "*"}, {"x-route", "r"}, {"x-rbac", "denied"}, {"content-length", "19"}, {"content-type", "text/plain"}}
	if res.Status != 403 || res.Forwarded || res.LocalReply || !reflect.DeepEqual(res.Headers, want) || string(res.Body) != "RBAC: access denied" {
		t.Errorf("earlier reply: got %+v; want 403 %v", res, want)
	}
	if want := []string{"proxy_on_context_create", "proxy_on_log", "proxy_on_done", "proxy_on_delete"}; !slices.Equal(calls, want) {
		t.Errorf("earlier reply: the plugin got %v; want only %v", calls, want)
	}
}
