package host

import "testing"

// Test_that_maps_and_bodies_live_only_during_their_callback checks the
// Envoy rule that a header map or body exists for the plugin only during its
// own callback (and the headers again during proxy_on_log).
func Test_that_maps_and_bodies_live_only_during_their_callback(t *testing.T) {
	hs := []Header{{Name: "x", Value: "1"}}
	s := &Stream{
		reqHeaders: newHeaderMap(hs, 0), respHeaders: newHeaderMap(hs, 0),
		reqBody: []byte("req"), respBody: []byte("resp"),
	}
	vm := &VM{cur: s}
	cases := []struct {
		desc     string
		live     live
		mapType  uint32
		wantOK   bool
		wantCode uint64
	}{
		{"request headers during request headers", liveReqHeaders, 0, true, statusOK},
		{"request headers during response headers", liveRespHeaders, 0, false, statusBadArgument},
		{"response headers during response headers", liveRespHeaders, 2, true, statusOK},
		{"response headers during request headers", liveReqHeaders, 2, false, statusBadArgument},
		{"request headers during on_done", 0, 0, false, statusBadArgument},
		{"request headers during on_log", liveLog, 0, true, statusOK},
	}
	for _, tc := range cases {
		s.live = tc.live
		m, code := vm.headerMapOf(tc.mapType)
		if (m != nil) != tc.wantOK || code != tc.wantCode {
			t.Errorf("%s: got map %v, status %d; want map %v, status %d", tc.desc, m != nil, code, tc.wantOK, tc.wantCode)
		}
	}
}
