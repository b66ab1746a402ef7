// Package host plays Envoy's side of the proxy-wasm ABI 0.2.1, strictly, on
// wazero, so that a plugin which passes here loads and behaves in Envoy.
//
// It emulates what Envoy's proxy-wasm host (proxy-wasm-cpp-host, as embedded
// in Envoy ≥ 1.33) offers and enforces:
//
//   - exactly 15 wasi_snapshot_preview1 functions with Envoy's results (see
//     wasi.go), poll_oneoff answering ENOSYS like the hosts before
//     proxy-wasm-cpp-host PR #533 unless [WithPollOneoff] says otherwise;
//   - all 29 env.proxy_* functions of ABI 0.2.1 (see env.go); the ones Envoy
//     has but this host does not emulate answer Unimplemented (12);
//   - the restricted-callback rules: during _initialize, and inside
//     proxy_on_memory_allocate, only a few host functions may be called.
//     A violation traps the guest, is recorded ([VM.Violations]), kills the
//     VM as Envoy does, and is returned as an error by the driving call;
//   - the call sequence: _initialize; proxy_on_context_create(root, 0),
//     proxy_on_vm_start, proxy_on_configure ([VM.Configure]); per stream
//     proxy_on_context_create(id, root), proxy_on_request_headers, the
//     upstream unless the plugin sent a local reply, proxy_on_response_headers
//     (on the local reply too, as Envoy does), proxy_on_log, proxy_on_done,
//     proxy_on_delete ([VM.RoundTrip]);
//   - Envoy's header maps: repeated lines of the headers Envoy keeps inline
//     (Origin, Access-Control-Request-*, X-Forwarded-Proto; the
//     Access-Control-Allow-* and Vary response headers) are joined into one
//     comma-separated value, unless [WithHeaderMerging] turns it off;
//   - the route's response_headers_to_add ([Request.ResponseHeadersToAdd]),
//     on the upstream's response and, before the plugin's own headers, on
//     its local replies, as Envoy applies them; and a local reply from a
//     filter placed before the plugin ([Request.EarlierReply]), which the
//     plugin sees only in its access-log callbacks;
//   - configuration updates in a running VM ([VM.Reconfigure]): a canary,
//     a new root context beside the old one, which keeps its streams in
//     flight and retires after them; metrics defined again share their
//     counters.
//
// A [Plugin] is a compiled module in one wazero runtime; each [VM] is one
// instance of it, like the VM of one Envoy worker: single-threaded, reused
// across streams, context IDs increasing. Streams may interleave on one VM
// between their phases ([VM.StartStream], [Stream.Finish]) as they do on an
// Envoy worker.
//
// Only this package (and the tests and commands that drive it) import wazero.
//
// [proxy-wasm ABI 0.2.1]: https://github.com/proxy-wasm/spec/tree/main/abi-versions/v0.2.1
// [proxy-wasm-cpp-host]: https://github.com/proxy-wasm/proxy-wasm-cpp-host/blob/main/src/exports.cc
package host
