package policy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
	"github.com/rs/cors"
)

type benchRequest struct {
	name string
	req  policy.Request
}

type benchConfig struct {
	name string
	cfg  string
	rs   cors.Options // the same policy for github.com/rs/cors
	reqs []benchRequest
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

// benchConfigs are shared by the benchmarks and the allocation guards.
func benchConfigs() []benchConfig {
	std := func(origin, denied string, acrh string) []benchRequest {
		pre := preflight(origin, "PUT")
		if acrh != "" {
			pre.ACRH = []string{acrh}
		}
		deniedPre := preflight(denied, "PUT")
		return []benchRequest{
			{"preflight-allowed", pre},
			{"preflight-denied", deniedPre},
			{"actual-allowed", actual("GET", origin)},
			{"actual-denied", actual("GET", denied)},
		}
	}
	var out []benchConfig
	for _, n := range []int{1, 100, 10000} {
		list := manyOrigins(n)
		out = append(out, benchConfig{
			name: fmt.Sprintf("%d-origins", n),
			cfg:  `{"allowed_origins":` + jsonList(list) + `,"allowed_methods":["PUT"],"allowed_request_headers":["x-requested-with"]}`,
			rs:   cors.Options{AllowedOrigins: list, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"x-requested-with"}},
			// The last origin: the worst case for a linear scan.
			reqs: std(list[n-1], "https://evil.example", "x-requested-with"),
		})
	}
	out = append(out, benchConfig{
		name: "subdomain",
		cfg:  `{"allowed_origins":["https://*.example.com"],"allowed_methods":["PUT"],"allowed_request_headers":["x-requested-with"]}`,
		rs:   cors.Options{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"x-requested-with"}},
		reqs: std("https://app.eu.example.com", "https://example.com.evil.example", "x-requested-with"),
	})
	out = append(out, benchConfig{
		name: "credentialed",
		cfg: `{"allowed_origins":["https://app.example.com","https://admin.example.com"],"allow_credentials":true,
			"allowed_methods":["PUT","DELETE","PATCH"],"allowed_request_headers":["content-type","x-csrf-token","authorization"],
			"exposed_response_headers":["x-request-id","x-total"],"max_age_seconds":600}`,
		rs: cors.Options{AllowedOrigins: []string{"https://app.example.com", "https://admin.example.com"}, AllowCredentials: true,
			AllowedMethods: []string{"PUT", "DELETE", "PATCH"}, AllowedHeaders: []string{"content-type", "x-csrf-token", "authorization"},
			ExposedHeaders: []string{"x-request-id", "x-total"}, MaxAge: 600},
		reqs: std("https://app.example.com", "https://evil.example", "authorization,content-type,x-csrf-token"),
	})
	return out
}

// BenchmarkDecide measures Policy.Decide against github.com/rs/cors on the
// same policy and requests. Slice the results with benchstat, e.g.
// benchstat -col /impl build/bench.txt.
func BenchmarkDecide(b *testing.B) {
	for _, bc := range benchConfigs() {
		p, err := policy.Parse([]byte(bc.cfg))
		if err != nil {
			b.Fatal(err)
		}
		bc.rs.OptionsSuccessStatus = 204
		handler := cors.New(bc.rs).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		for _, br := range bc.reqs {
			r := br.req
			b.Run("cfg="+bc.name+"/req="+br.name+"/impl=policy", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = p.Decide(&r)
				}
			})
			b.Run("cfg="+bc.name+"/req="+br.name+"/impl=rscors", func(b *testing.B) {
				hr := httptest.NewRequest(r.Method, "https://api.example.com/", nil)
				hr.Header.Set("Origin", r.Origin[0])
				if len(r.ACRM) > 0 {
					hr.Header.Set("Access-Control-Request-Method", r.ACRM[0])
				}
				if len(r.ACRH) > 0 {
					hr.Header.Set("Access-Control-Request-Headers", r.ACRH[0])
				}
				w := &discardWriter{h: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					handler.ServeHTTP(w, hr)
				}
			})
		}
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

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
