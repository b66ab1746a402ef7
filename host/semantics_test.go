package host

import (
	"slices"
	"testing"
)

// This file tests the smaller Envoy semantics the host emulates, each with
// the source it follows (docs/abi.md, "What the test host emulates").

// Test_that_proxy_on_log_runs_before_proxy_on_done_and_proxy_on_delete
// follows Envoy's doDeferredStreamDestroy: access logs (Context::log, then
// proxy_on_log) before the filters are destroyed (Context::onDestroy:
// proxy_on_done, then proxy_on_delete), on a finished stream and on a reset
// one.
func Test_that_proxy_on_log_runs_before_proxy_on_done_and_proxy_on_delete(t *testing.T) {
	var calls []string
	vm := newProbeVM(t, probe{}, WithCallTrace(func(_ *VM, export string, id uint32) {
		if id >= 2 { // the streams, not the root context
			calls = append(calls, export)
		}
	}))
	if _, err := vm.RoundTrip(Request{Method: "GET", Authority: "a", Path: "/"}, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"proxy_on_context_create", "proxy_on_request_headers", "proxy_on_response_headers",
		"proxy_on_log", "proxy_on_done", "proxy_on_delete"}
	if !slices.Equal(calls, want) {
		t.Fatalf("finished stream: got %v; want %v", calls, want)
	}
	calls = nil
	s, err := vm.StartStream(Request{Method: "GET", Authority: "a", Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want = []string{"proxy_on_context_create", "proxy_on_request_headers", "proxy_on_log", "proxy_on_done", "proxy_on_delete"}
	if !slices.Equal(calls, want) {
		t.Fatalf("reset stream: got %v; want %v", calls, want)
	}
}

// Test_that_header_map_pairs_outside_their_phase_are_an_empty_map follows
// Envoy's Context::getHeaderMapPairs, which serializes whatever getConstMap
// returns (no map: no pairs) and answers OK, unlike getHeaderMapValue
// (BadArgument, or NotFound while logging). Only a map type beyond the last
// is BadArgument, from proxy-wasm-cpp-host's exports.cc.
func Test_that_header_map_pairs_outside_their_phase_are_an_empty_map(t *testing.T) {
	vm := newProbeVM(t, probe{})
	hs := []Header{{Name: "x", Value: "1"}}
	st := &Stream{reqHeaders: newHeaderMap(hs, 0), respHeaders: newHeaderMap(hs, 0), reqTrailers: newHeaderMap(hs, 0)}
	pairs := func(mapType uint32) (status, ptr, size uint32) {
		vm.mem.WriteUint32Le(addrRet, 0xdead)
		vm.mem.WriteUint32Le(addrSize, 0xbeef)
		s := []uint64{uint64(mapType), addrRet, addrSize}
		vm.proxyGetHeaderMapPairs(s)
		return uint32(s[0]), vm.u32(t, addrRet), vm.u32(t, addrSize)
	}
	value := func(mapType uint32) uint32 {
		s := []uint64{uint64(mapType), addrHello, 1, addrRet, addrSize}
		vm.proxyGetHeaderMapValue(s)
		return uint32(s[0])
	}
	cases := []struct {
		desc      string
		cur       *Stream
		live      live
		inLog     bool
		mapType   uint32
		wantValue uint32
	}{
		{desc: "request headers during the response callback", cur: st, live: liveRespHeaders, mapType: 0, wantValue: statusBadArgument},
		{desc: "response headers during the request callback", cur: st, live: liveReqHeaders, mapType: 2, wantValue: statusBadArgument},
		{desc: "request trailers while logging", cur: st, live: liveLog, inLog: true, mapType: 1, wantValue: statusNotFound},
		{desc: "an HTTP call's response headers", cur: st, live: liveReqHeaders, mapType: 6, wantValue: statusBadArgument},
		{desc: "request headers outside any stream", mapType: 0, wantValue: statusBadArgument},
	}
	for _, tc := range cases {
		vm.cur = tc.cur
		if tc.cur != nil {
			tc.cur.live, tc.cur.inLog = tc.live, tc.inLog
		}
		if st, p, n := pairs(tc.mapType); st != statusOK || p != 0 || n != 0 {
			t.Errorf("%s: pairs got status %d, pointer %#x, size %d; want OK with an empty map (0, 0)", tc.desc, st, p, n)
		}
		if got := value(tc.mapType); got != tc.wantValue {
			t.Errorf("%s: a value got status %d; want %d", tc.desc, got, tc.wantValue)
		}
	}
	vm.cur = st
	st.live = liveReqHeaders
	if status, p, n := pairs(0); status != statusOK || p == 0 || n == 0 {
		t.Errorf("request headers during their callback: got status %d, pointer %d, size %d; want the map", status, p, n)
	}
	if status, _, _ := pairs(mapTypeMax + 1); status != statusBadArgument {
		t.Errorf("map type %d: got status %d; want BadArgument", mapTypeMax+1, status)
	}
	vm.cur = nil
}

// Test_that_a_buffer_read_from_beyond_its_end_is_empty follows
// proxy-wasm-cpp-host's get_buffer_bytes: a start at or beyond the end
// leaves nothing to copy, which is OK with a null address and size 0
// written (not BadArgument); a length past the end is clipped.
func Test_that_a_buffer_read_from_beyond_its_end_is_empty(t *testing.T) {
	vm := newProbeVM(t, probe{})
	vm.inConfigure, vm.pluginConfig = true, []byte("abcdef")
	defer func() { vm.inConfigure, vm.pluginConfig = false, nil }()
	for _, tc := range []struct {
		start, length uint32
		want          string
	}{
		{start: 2, length: 2, want: "cd"},
		{start: 4, length: 100, want: "ef"},
		{start: 6, length: 10, want: ""},
		{start: 7, length: 10, want: ""},
		{start: 1 << 31, length: 1 << 31, want: ""},
	} {
		vm.mem.WriteUint32Le(addrRet, 0xdead)
		vm.mem.WriteUint32Le(addrSize, 0xbeef)
		s := []uint64{bufferPluginConfig, uint64(tc.start), uint64(tc.length), addrRet, addrSize}
		vm.proxyGetBufferBytes(s)
		p, n := vm.u32(t, addrRet), vm.u32(t, addrSize)
		var got string
		if n > 0 {
			b, _ := vm.mem.Read(p, n)
			got = string(b)
		}
		if s[0] != statusOK || got != tc.want || (tc.want == "" && (p != 0 || n != 0)) {
			t.Errorf("start %d, length %d: got status %d, %q at %#x; want OK and %q", tc.start, tc.length, s[0], got, p, tc.want)
		}
	}
}

// Test_that_proc_exit_and_fd_close_are_only_logged follows
// proxy-wasm-cpp-host's wasi_unstable_proc_exit and wasi_unstable_fd_close:
// both call context->error, which Envoy's Context::error logs at trace
// level; fd_close answers success. The VM lives on.
func Test_that_proc_exit_and_fd_close_are_only_logged(t *testing.T) {
	vm := newProbeVM(t, probe{})
	wasiProcExit(vm, []uint64{3})
	s := []uint64{7}
	wasiFdClose(vm, s)
	if s[0] != errnoSuccess {
		t.Errorf("fd_close: got errno %d; want success", s[0])
	}
	if got := vm.Logs(LogTrace); !slices.Equal(got, []string{"wasi_unstable proc_exit", "wasi_unstable fd_close"}) {
		t.Errorf("trace logs: got %q", got)
	}
	if _, err := vm.RoundTrip(Request{Method: "GET", Authority: "a", Path: "/"}, nil); err != nil || vm.Err() != nil {
		t.Fatalf("after proc_exit: RoundTrip %v, VM %v; want a live VM", err, vm.Err())
	}
}

// Test_that_fd_write_strips_one_trailing_newline follows
// proxy-wasm-cpp-host's writevImpl: one call's buffers are one log line,
// one trailing newline removed, nothing logged for an empty write, and the
// count written includes the newline.
func Test_that_fd_write_strips_one_trailing_newline(t *testing.T) {
	vm := newProbeVM(t, probe{})
	const iovs, data, nwritten = 400, 300, 440
	write := func(fd uint32, parts ...string) (errno, n uint32) {
		at := uint32(data)
		for i, p := range parts {
			vm.mem.WriteString(at, p)
			vm.mem.WriteUint32Le(iovs+8*uint32(i), at)
			if p == "" {
				vm.mem.WriteUint32Le(iovs+8*uint32(i), 0xfffffff0) // never read
			}
			vm.mem.WriteUint32Le(iovs+8*uint32(i)+4, uint32(len(p)))
			at += uint32(len(p))
		}
		s := []uint64{uint64(fd), iovs, uint64(len(parts)), nwritten}
		wasiFdWrite(vm, s)
		return uint32(s[0]), vm.u32(t, nwritten)
	}
	for _, tc := range []struct {
		fd    uint32
		parts []string
		level LogLevel
		want  []string
	}{
		{fd: 1, parts: []string{"hello", "", " world\n"}, level: LogInfo, want: []string{"hello world"}},
		{fd: 2, parts: []string{"fatal error: x\n\n"}, level: LogError, want: []string{"fatal error: x\n"}},
		{fd: 1, parts: []string{"\n"}, level: LogInfo, want: []string{""}},
		{fd: 1, parts: []string{""}, level: LogInfo, want: nil},
	} {
		vm.ResetLogs()
		errno, n := write(tc.fd, tc.parts...)
		total := 0
		for _, p := range tc.parts {
			total += len(p)
		}
		if errno != errnoSuccess || int(n) != total {
			t.Errorf("%q: got errno %d, %d written; want success, %d", tc.parts, errno, n, total)
		}
		if got := vm.Logs(tc.level); !slices.Equal(got, tc.want) {
			t.Errorf("%q: got log lines %q; want %q", tc.parts, got, tc.want)
		}
	}
	if errno, _ := write(3, "x"); errno != errnoBadf {
		t.Errorf("fd 3: got errno %d; want EBADF", errno)
	}
}
