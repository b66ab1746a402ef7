package policy_test

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// TestBenchmarkDecide_twins checks that BenchmarkDecide compares like with
// like: on every row, the policy decides what the row's name says, and
// rs/cors and jub0bs/cors answer with the same CORS headers and status,
// save where their semantics differ by design:
//
//   - jub0bs/cors writes no Vary on any preflight response, allowed or
//     denied: caches must not store answers to OPTIONS (RFC 9110 §9.3.7).
//     The policy writes it on both, as rs/cors does, for caches that do.
//   - rs/cors answers every preflight with OptionsSuccessStatus, a denied
//     one too, only without CORS headers (the browser then fails the
//     CORS check); the policy and jub0bs/cors answer a denied one 403.
//     Setting OptionsSuccessStatus to 403 would deny the allowed rows.
//
// List-valued headers (Access-Control-Allow-Headers, -Expose-Headers, Vary)
// are compared as lists of case-insensitive names: rs/cors writes
// "X-Request-Id, X-Total" where the policy writes "x-request-id,x-total".
func TestBenchmarkDecide_twins(t *testing.T) {
	for _, bc := range benchConfigs() {
		p := parseOK(t, bc.cfg)
		rs, jb := twins(t, bc)
		for _, br := range bc.reqs {
			name := "cfg=" + bc.name + "/req=" + br.name
			f, w := &filterRun{p: p}, newSink()
			f.serve(w, br.method, br.headers)
			if got := f.d.Outcome; got != br.want {
				t.Errorf("%s: the policy decides %v; the row promises %v", name, got, br.want)
			}
			pol := effectOf(w)
			w = newSink()
			rs.ServeHTTP(w, twinRequest(br))
			rsc := effectOf(w)
			w = newSink()
			jb.ServeHTTP(w, twinRequest(br))
			jub := effectOf(w)

			allowed := br.want == policy.OutcomePreflightAllowed || br.want == policy.OutcomeActualAllowed
			for impl, e := range map[string]effect{"policy": pol, "rscors": rsc, "jub0bs": jub} {
				if _, ok := e.headers["Access-Control-Allow-Origin"]; ok != allowed {
					t.Errorf("%s/impl=%s: Access-Control-Allow-Origin %v; the row promises allowed %v: %v", name, impl, ok, allowed, e)
				}
			}

			preflight := br.method == http.MethodOptions
			if !preflight || allowed {
				compare(t, name+"/impl=rscors", pol, rsc)
			} else {
				// Same headers, Vary included; a different status.
				if rsc.status != http.StatusNoContent || pol.status != http.StatusForbidden {
					t.Errorf("%s: statuses policy %d, rscors %d; want 403, 204", name, pol.status, rsc.status)
				}
				rsc.status = pol.status
				compare(t, name+"/impl=rscors", pol, rsc)
			}
			if preflight {
				if _, ok := jub.headers["Vary"]; ok {
					t.Errorf("%s: jub0bs/cors writes Vary on a preflight: %v", name, jub)
				}
				if _, ok := pol.headers["Vary"]; !ok {
					t.Errorf("%s: the policy writes no Vary on a preflight: %v", name, pol)
				}
				jub.headers["Vary"] = pol.headers["Vary"]
			}
			compare(t, name+"/impl=jub0bs", pol, jub)
		}
	}
}

// effect is a response as a client reads it: its status (200 when the
// upstream's) and its headers by canonical name, list values normalized.
type effect struct {
	status  int
	headers map[string]string
}

func effectOf(w *sink) effect {
	e := effect{status: w.status, headers: map[string]string{}}
	if e.status == 0 {
		e.status = http.StatusOK
	}
	for name, values := range w.h {
		name = http.CanonicalHeaderKey(name)
		v := strings.Join(values, ",")
		switch name {
		case "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Vary":
			var list []string
			for _, m := range strings.Split(v, ",") {
				list = append(list, strings.ToLower(strings.TrimSpace(m)))
			}
			v = strings.Join(list, ",")
		}
		e.headers[name] = v
	}
	return e
}

func compare(t *testing.T, name string, want, got effect) {
	t.Helper()
	if got.status != want.status || !maps.Equal(got.headers, want.headers) {
		t.Errorf("%s: %d %v; the policy answers %d %v", name, got.status, sorted(got.headers), want.status, sorted(want.headers))
	}
}

func sorted(h map[string]string) []string {
	var out []string
	for k, v := range h {
		out = append(out, k+": "+v)
	}
	slices.Sort(out)
	return out
}
