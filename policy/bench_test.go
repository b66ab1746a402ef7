package policy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	jub0bs "github.com/jub0bs/cors"
	"github.com/rs/cors"

	"github.com/corsfilter/corsfilter/policy"
)

// A benchRequest is one row of BenchmarkDecide: a request as the filter
// receives it, headers in lower case as Envoy hands them over.
type benchRequest struct {
	name    string
	method  string
	headers [][2]string // besides :method, :scheme, :authority and :path
	// want is the outcome the row's name promises; the twins are checked
	// against it too (TestBenchmarkDecide_twins).
	want policy.Outcome
}

// A benchConfig is one policy, written for the three implementations.
type benchConfig struct {
	name   string
	cfg    string
	rs     cors.Options  // the same policy for github.com/rs/cors
	jub0bs jub0bs.Config // and for github.com/jub0bs/cors
	reqs   []benchRequest
}

func manyOrigins(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://app%d.example.com", i)
	}
	return out
}

func jsonList(list []string) string {
	return `["` + strings.Join(list, `","`) + `"]`
}

// Request facts shared by every row.
const (
	benchScheme    = "https"
	benchAuthority = "api.example.com"
	benchPath      = "/"
)

// safelisted are the methods rs/cors must list to let actual GET requests
// through: unlike the Fetch standard, the policy and jub0bs/cors, it checks
// the method of an actual request against AllowedMethods, so without them
// its "actual-allowed" rows would be method denials.
var safelisted = []string{http.MethodGet, http.MethodHead, http.MethodPost}

// benchConfigs are shared by the benchmarks, the allocation guards and the
// twins' equivalence test. Each has the same five rows: a preflight allowed
// and one denied (by origin), an actual GET allowed and one denied (by
// origin), and a GET without Origin.
func benchConfigs() []benchConfig {
	rows := func(allowed, denied, acrh string) []benchRequest {
		pre := func(origin string) [][2]string {
			return [][2]string{{"origin", origin}, {"access-control-request-method", "PUT"}, {"access-control-request-headers", acrh}}
		}
		return []benchRequest{
			{"preflight-allowed", "OPTIONS", pre(allowed), policy.OutcomePreflightAllowed},
			{"preflight-denied", "OPTIONS", pre(denied), policy.OutcomePreflightDeniedOrigin},
			{"actual-allowed", "GET", [][2]string{{"origin", allowed}}, policy.OutcomeActualAllowed},
			{"actual-denied", "GET", [][2]string{{"origin", denied}}, policy.OutcomeActualDenied},
			{"not-cors", "GET", nil, policy.OutcomeNotCORS},
		}
	}
	var out []benchConfig
	for _, n := range []int{1, 100, 10000} {
		list := manyOrigins(n)
		out = append(out, benchConfig{
			name:   fmt.Sprintf("%d-origins", n),
			cfg:    `{"allowed_origins":` + jsonList(list) + `,"allowed_methods":["PUT"],"allowed_request_headers":["x-requested-with"]}`,
			rs:     cors.Options{AllowedOrigins: list, AllowedMethods: slices.Concat([]string{"PUT"}, safelisted), AllowedHeaders: []string{"x-requested-with"}},
			jub0bs: jub0bs.Config{Origins: list, Methods: []string{"PUT"}, RequestHeaders: []string{"x-requested-with"}},
			// The last origin: the worst case for a linear scan.
			reqs: rows(list[n-1], "https://evil.example", "x-requested-with"),
		})
	}
	out = append(out, benchConfig{
		name:   "subdomain",
		cfg:    `{"allowed_origins":["https://*.example.com"],"allowed_methods":["PUT"],"allowed_request_headers":["x-requested-with"]}`,
		rs:     cors.Options{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: slices.Concat([]string{"PUT"}, safelisted), AllowedHeaders: []string{"x-requested-with"}},
		jub0bs: jub0bs.Config{Origins: []string{"https://*.example.com"}, Methods: []string{"PUT"}, RequestHeaders: []string{"x-requested-with"}},
		reqs:   rows("https://app.eu.example.com", "https://example.com.evil.example", "x-requested-with"),
	})
	credOrigins := []string{"https://app.example.com", "https://admin.example.com"}
	credMethods := []string{"PUT", "DELETE", "PATCH"}
	credHeaders := []string{"content-type", "x-csrf-token", "authorization"}
	credExposed := []string{"x-request-id", "x-total"}
	out = append(out, benchConfig{
		name: "credentialed",
		cfg: `{"allowed_origins":["https://app.example.com","https://admin.example.com"],"allow_credentials":true,
			"allowed_methods":["PUT","DELETE","PATCH"],"allowed_request_headers":["content-type","x-csrf-token","authorization"],
			"exposed_response_headers":["x-request-id","x-total"],"max_age_seconds":600}`,
		rs: cors.Options{AllowedOrigins: credOrigins, AllowCredentials: true, AllowedMethods: slices.Concat(credMethods, safelisted),
			AllowedHeaders: credHeaders, ExposedHeaders: credExposed, MaxAge: 600},
		jub0bs: jub0bs.Config{Origins: credOrigins, Credentialed: true, Methods: credMethods,
			RequestHeaders: credHeaders, ResponseHeaders: credExposed, MaxAgeInSeconds: 600},
		reqs: rows("https://app.example.com", "https://evil.example", "authorization,content-type,x-csrf-token"),
	})
	return out
}

// sink is the response every implementation writes its effect into: a
// reused http.Header, emptied between requests with clear (which keeps the
// map's storage, so resetting allocates nothing), and the status.
type sink struct {
	h      http.Header
	status int // 0: the upstream's, none written
}

func newSink() *sink { return &sink{h: http.Header{}} }

func (s *sink) reset() { clear(s.h); s.status = 0 }

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(status int)      { s.status = status }

// filterRun does with one request what the filter does (filter/stream.go),
// from the same reused storage, but writes into a sink instead of the host:
// it reads the request header by header into a reused Request, decides,
// and then either writes Reply's headers and the status (a local reply), or
// detaches the decision, as the filter must before the host reuses the
// request's buffers, and applies Response's edits to the response headers
// (a forwarded request). The upstream's response has no header, as the
// twins' wrapped handler writes none.
type filterRun struct {
	p        *policy.Policy
	r        policy.Request
	d        policy.Decision
	reply    []policy.Header
	edits    policy.Edits
	upstream []policy.Header
	echoes   [512]byte
	// vals backs the sink's values: an http.Header holds a []string per
	// name, which the filter, writing name and value to the host from reused
	// storage, never builds. The twins write slices they share or allocate.
	vals [16]string
}

func (f *filterRun) serve(w *sink, method string, hs [][2]string) {
	r := &f.r
	r.Reset()
	r.AddHeader(":method", method)
	r.AddHeader(":scheme", benchScheme)
	r.AddHeader(":authority", benchAuthority)
	r.AddHeader(":path", benchPath)
	for i := range hs {
		r.AddHeader(hs[i][0], hs[i][1])
	}
	d := &f.d
	f.p.DecideInto(r, d)
	if !d.Enforced() {
		return
	}
	if d.Action == policy.Respond {
		f.reply = d.Reply(f.reply[:0])
		f.write(w, f.reply)
		w.status = d.Status
		return
	}
	d.Detach(f.echoes[:0])
	d.Response(f.upstream, &f.edits)
	for _, name := range f.edits.Remove {
		delete(w.h, name)
	}
	f.write(w, f.edits.Set)
}

// write sets each header, replacing any value. Names stay in lower case,
// as the filter hands them to Envoy; the twins' canonical names cost the
// same to hash, and TestBenchmarkDecide_twins compares names
// case-insensitively.
func (f *filterRun) write(w *sink, hs []policy.Header) {
	for i, h := range hs {
		f.vals[i] = h.Value
		w.h[h.Name] = f.vals[i : i+1 : i+1]
	}
}

// twinRequest is the request as net/http hands it to a middleware: built
// once, outside the measurement, as the server parsed it.
func twinRequest(br benchRequest) *http.Request {
	hr := httptest.NewRequest(br.method, benchScheme+"://"+benchAuthority+benchPath, nil)
	for _, h := range br.headers {
		hr.Header.Add(h[0], h[1])
	}
	return hr
}

// upstream is the handler the twins wrap: it writes nothing.
var upstream = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func twins(tb testing.TB, bc benchConfig) (rs, jb http.Handler) {
	rs = cors.New(bc.rs).Handler(upstream)
	m, err := jub0bs.NewMiddleware(bc.jub0bs)
	if err != nil {
		tb.Fatal(err)
	}
	return rs, m.Wrap(upstream)
}

// BenchmarkDecide compares the whole CORS effect of a request under the
// policy with github.com/rs/cors and github.com/jub0bs/cors configured
// alike. Slice the results with benchstat, e.g. benchstat -col /impl.
//
// The three do equal work, into the same kind of sink: each writes every
// header of its answer into one reused http.Header, emptied with clear
// between requests, and a local reply's status.
//   - impl=policy is the filter's work (see filterRun): it builds the
//     Request from the pseudo-headers and headers with AddHeader, decides,
//     and writes Reply's headers, or Response's edits after Detach.
//   - impl=rscors and impl=jub0bs are the middlewares around a handler that
//     writes nothing, served an *http.Request built once, as net/http would
//     have parsed it: they pay no parsing, the policy pays AddHeader.
//
// Where the answers differ by design (TestBenchmarkDecide_twins documents
// each case), each implementation does its own work: jub0bs writes no Vary
// on a preflight, and rs/cors answers a denied preflight 204.
func BenchmarkDecide(b *testing.B) {
	for _, bc := range benchConfigs() {
		p, err := policy.Parse([]byte(bc.cfg))
		if err != nil {
			b.Fatal(err)
		}
		rs, jb := twins(b, bc)
		for _, br := range bc.reqs {
			prefix := "cfg=" + bc.name + "/req=" + br.name + "/impl="
			b.Run(prefix+"policy", func(b *testing.B) {
				f, w := &filterRun{p: p}, newSink()
				b.ReportAllocs()
				for b.Loop() {
					w.reset()
					f.serve(w, br.method, br.headers)
				}
			})
			for _, twin := range []struct {
				name string
				h    http.Handler
			}{{"rscors", rs}, {"jub0bs", jb}} {
				b.Run(prefix+twin.name, func(b *testing.B) {
					hr, w := twinRequest(br), newSink()
					b.ReportAllocs()
					for b.Loop() {
						w.reset()
						twin.h.ServeHTTP(w, hr)
					}
				})
			}
		}
	}
}

// BenchmarkParse measures loading a large configuration: 10,000 origins and
// 1,000 rules.
func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"allowed_origins":` + jsonList(manyOrigins(10000)) + `,"allowed_methods":["PUT","DELETE"],"rules":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"r%d","match":{"hosts":["h%d.example.com","*.h%d.example.com"],"path_prefixes":["/api/%d/"]},"allowed_request_headers":["x-r%d"],"max_age_seconds":%d}`, i, i, i, i, i, i%7200)
	}
	sb.WriteString(`]}`)
	config := []byte(sb.String())
	b.Run("cfg=10000-origins-1000-rules", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(config)))
		for b.Loop() {
			if _, err := policy.Parse(config); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMergeVary merges the preflight's Vary tokens into upstream Vary
// values of growing size: the cost grows linearly up to the bound (32
// members), and beyond it is one copy of the upstream's value.
func BenchmarkMergeVary(b *testing.B) {
	for _, n := range []int{1, 8, 32, 1000} {
		existing := []string{varyMembers(n)}
		b.Run(fmt.Sprintf("type=merge-vary/up=%d-members", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = policy.MergeVary(existing, varyPreflight)
			}
		})
	}
}
