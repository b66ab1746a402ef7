// Command filter is the CORS filter: a proxy-wasm plugin for Envoy's
// envoy.filters.http.wasm, built with the standard Go toolchain
// (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared, see `make build`).
//
// The plugin is thin glue. Every decision comes from package policy; this
// package gathers the request facts from the host, calls policy.Decide once
// per request, and translates the Decision into host calls:
//
//	          Envoy (proxy-wasm host)
//	             │ plugin config            │ request headers, xds.route_name
//	             ▼                          ▼
//	OnPluginStart: policy.Parse   OnHttpRequestHeaders: policy.Decide
//	(invalid → start fails,         ├─ Respond → local reply (preflight, 403)
//	 every error logged)            ├─ Forward → remember the decision
//	                                └─ Ignore / report_only → count only
//	                                        │
//	                              response headers (upstream reply or a
//	                              later filter's local reply, e.g. JWT 401):
//	                              apply Decision.Response's edits (strip the
//	                              upstream's CORS headers, set ours, one
//	                              merged Vary); on our own local reply, which
//	                              Envoy hands back with the route's response
//	                              headers in it: Decision.LocalReply's edits
//	                              (keep only our own CORS headers)
//
// The SDK keeps the VM and plugin lifecycle; the ABI layer hands stream
// callbacks to the filter directly (streams_wasip1.go), which reads header
// maps in place and writes from reused storage, so that a stream allocates
// nothing on the guest's heap. Natively, the SDK's proxytest drives the
// same stream logic (stream.go) through an HttpContext adapter.
//
// Counters are named cors.<rule>.<outcome> (policy.Outcomes, plus
// report_only_divergence and upstream_cors_overridden per rule) and
// cors.unmatched, cors.internal_fault. A fault in a host call never breaks a
// request: the stream continues unchanged, the fault is counted and logged at
// warn level.
//
// Deployment rules:
//   - Put the CORS filter before authentication (JWT, ext_authz, RBAC):
//     preflights carry no credentials and must be answered before they are
//     rejected, and a later filter's 401 or 403 then still gets CORS headers
//     so the browser app can read it.
//   - Keep the Vary header the filter sets: caches between the proxy and the
//     browser must key responses by Origin.
//   - Do not stack CORS filters, nor enable Envoy's own CORS filter or
//     upstream CORS middleware on the same routes: the filter owns the CORS
//     headers of the routes it governs, and two owners produce duplicate or
//     contradictory headers. The filter removes the CORS headers a route's
//     response_headers_to_add puts on the responses it sees, its own local
//     replies included, but a local reply from a filter placed before it
//     never passes through it: keep CORS headers out of route
//     configuration.
//   - Do not cache OPTIONS responses in a shared cache ahead of the filter;
//     preflight answers depend on Origin and the requested method and headers.
package main
