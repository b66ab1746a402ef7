package importer_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/internal/importer"
	"github.com/corsfilter/corsfilter/policy"
	"sigs.k8s.io/yaml"
)

func convert(t *testing.T, y string) (*importer.Result, error) {
	t.Helper()
	js, err := yaml.YAMLToJSONStrict([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return importer.Import([][]byte{js})
}

func changes(res *importer.Result) string {
	var b strings.Builder
	for _, c := range res.Changes {
		b.WriteString(c.String() + "\n")
	}
	return b.String()
}

const envoyRoutes = `
name: local
virtual_hosts:
- name: api
  domains: ["api.example.com", "api.example.com:8443"]
  typed_per_filter_config:
    envoy.filters.http.cors:
      "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
      allow_origin_string_match:
      - suffix: ".example.com"
      - prefix: "https://app"
      - exact: "HTTPS://Shop.Example.com:443"
      allow_methods: "GET, put, PATCH"
      allow_headers: "X-A"
      max_age: "100000"
      allow_credentials: false
      shadow_enabled: {default_value: {numerator: 100}}
  routes:
  - name: api
    match: {prefix: "/api/"}
    route: {cluster: api}
  - name: legacy
    match: {path: "/legacy", headers: [{name: x-v, string_match: {exact: "1"}}]}
    route:
      cluster: api
      cors:
        allow_origin_string_match: [{exact: "https://legacy.example.com"}]
        forward_not_matching_preflights: false
  - name: rest
    match: {prefix: "/"}
    route: {cluster: api}
    typed_per_filter_config:
      envoy.filters.http.cors:
        "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
        allow_origin_string_match: [{exact: "https://app.example.com"}]
        filter_enabled: {default_value: {numerator: 0}}
`

func TestEnvoy(t *testing.T) {
	res, err := convert(t, envoyRoutes)
	if err != nil {
		t.Fatal(err)
	}
	got := string(res.Config.JSON())
	for _, want := range []string{
		`"https://*.example.com"`, `"^https://app.*$"`, `"https://shop.example.com"`, `"PUT"`, `"PATCH"`,
		`"max_age_seconds": 86400`, `"mode": "report_only"`, `"forward_denied_preflights": true`, `"hosts": [` + "\n" + `          "api.example.com"` + "\n",
		`"paths": [` + "\n" + `          "/legacy"`, `"https://legacy.example.com"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the configuration lacks %s:\n%s", want, got)
		}
	}
	var cfg importer.Config
	if err := json.Unmarshal(res.Config.JSON(), &cfg); err != nil {
		t.Fatal(err)
	}
	// The last route's policy is off, and no rule follows it: dropped,
	// as the requests it takes are untouched either way.
	if len(cfg.Rules) != 2 || cfg.Rules[1].ForwardDeniedPreflights || cfg.Rules[1].Mode != "" {
		t.Errorf("the legacy route's own policy must replace the virtual host's: %+v", cfg.Rules[1])
	}
	for _, want := range []string{
		`suffix ".example.com" also matched http:// origins`,
		`prefix "https://app" is not label-aware`,
		`"HTTPS://Shop.Example.com:443" written "https://shop.example.com"`,
		`method "put" written "PUT"`,
		"100000 seconds capped at 86400",
		`written mode "report_only"`,
		`host "api.example.com:8443": the port is dropped`,
		".headers: header matches cannot be matched here",
		`0%: the rule is written with mode "off"`,
	} {
		if !strings.Contains(changes(res), want) {
			t.Errorf("changes lack %q:\n%s", want, changes(res))
		}
	}
	// The prefix regex spans sites: without credentials the policy warns.
	p, err := policy.Parse(res.Config.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(p.Warnings(), "\n"); !strings.Contains(w, `^https://app.*$`) {
		t.Errorf("no warning about the prefix regex: %s", w)
	}
}

func TestSuffixNotLabelAware(t *testing.T) {
	res, err := convert(t, `
virtual_hosts:
- name: a
  domains: ["*"]
  cors: {allow_origin_string_match: [{suffix: "example.com"}]}
  routes: [{match: {prefix: "/"}, route: {cluster: a}}]
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Config.JSON()); !strings.Contains(got, `"https://*.example.com"`) || !strings.Contains(got, `"https://example.com"`) {
		t.Errorf("%s", got)
	}
	if !strings.Contains(changes(res), `suffix "example.com" is not label-aware: it also matches https://evilexample.com`) {
		t.Errorf("%s", changes(res))
	}
}

func TestGatewayWildcards(t *testing.T) {
	res, err := convert(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - matches: [{path: {type: PathPrefix, value: /a}, headers: [{name: x, value: "1"}]}]
    filters:
    - type: CORS
      cors: {allowOrigins: ["https://*.example.com:443", "https://*"], allowHeaders: ["*"], allowCredentials: false}
`)
	if err != nil {
		t.Fatal(err)
	}
	got := string(res.Config.JSON())
	for _, want := range []string{`"https://*.example.com"`, `"^https://.+$"`, `"max_age_seconds": 5`, `"/a/"`} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %s: %s", want, got)
		}
	}
	for _, want := range []string{"is greedy", `"https://*" admits every host`, "header matches cannot be matched here"} {
		if !strings.Contains(changes(res), want) {
			t.Errorf("changes lack %q:\n%s", want, changes(res))
		}
	}
}

// TestStrict: a field the peer's own types do not define is an error.
func TestStrict(t *testing.T) {
	for _, y := range []string{
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec: {http: [{corsPolicy: {allowOrigin: [a], alowMethods: [GET]}}]}\n",
		"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec: {rules: [{filters: [{type: CORS, cors: {allowOrigin: [a]}}]}]}\n",
		"virtual_hosts: [{name: a, domains: ['*'], cors: {allow_origin: [a]}, routes: []}]\n",
		"virtual_hosts: [{name: '', domains: [], routes: []}]\n",
	} {
		if _, err := convert(t, y); err == nil {
			t.Errorf("accepted:\n%s", y)
		}
	}
	if _, err := convert(t, "apiVersion: v1\nkind: ConfigMap\n"); err == nil || !strings.Contains(err.Error(), "nothing to import") {
		t.Errorf("a ConfigMap: %v", err)
	}
}
