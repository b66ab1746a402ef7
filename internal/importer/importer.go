// Package importer converts the CORS settings of other proxies' resources
// into a corsfilter plugin configuration: an Istio VirtualService's
// corsPolicy, a Gateway API HTTPRoute's CORS filters, and Envoy's
// route-level CorsPolicy. Each input is first decoded strictly into its
// project's own Go types (istio.io/api, sigs.k8s.io/gateway-api,
// go-control-plane), so that a misspelt field is an error. Every construct
// whose meaning changes in the conversion is reported; the result is then
// validated by the policy package like any configuration, so that what the
// policy refuses ("*" with credentials, regexes spanning sites) is refused
// here too.
//
// It is corsctl's alone: nothing in it is linked into cors.wasm.
package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Change is one construct whose meaning changes in the conversion.
type Change struct {
	Where string // the resource and field: "VirtualService shop/api, http[0].corsPolicy.allowOrigins[1]"
	Msg   string
}

func (c Change) String() string { return c.Where + ": " + c.Msg }

// Result is a conversion.
type Result struct {
	Config  Config
	Changes []Change
	Sources []string // the resources read, and what validated each
}

// Config is the plugin configuration written, its keys in the order a
// reader expects.
type Config struct {
	Description string `json:"description,omitempty"`
	Rules       []Rule `json:"rules"`
}

// Rule is one rule of the written configuration.
type Rule struct {
	Name                    string   `json:"name"`
	Description             string   `json:"description,omitempty"`
	Match                   *Match   `json:"match,omitempty"`
	AllowedOrigins          []string `json:"allowed_origins"`
	AllowedOriginRegexes    []string `json:"allowed_origin_regexes,omitempty"`
	AllowedMethods          []string `json:"allowed_methods,omitempty"`
	AllowedRequestHeaders   []string `json:"allowed_request_headers,omitempty"`
	ExposedResponseHeaders  []string `json:"exposed_response_headers,omitempty"`
	AllowCredentials        bool     `json:"allow_credentials,omitempty"`
	MaxAgeSeconds           *int     `json:"max_age_seconds,omitempty"`
	AllowPrivateNetwork     bool     `json:"allow_private_network,omitempty"`
	Mode                    string   `json:"mode,omitempty"`
	ForwardDeniedPreflights bool     `json:"forward_denied_preflights,omitempty"`

	// order sorts the rules of peers whose precedence is not their
	// order (Gateway API, Envoy's virtual hosts); smaller comes first.
	order []int
}

// Match is a rule's match.
type Match struct {
	Hosts        []string `json:"hosts,omitempty"`
	Paths        []string `json:"paths,omitempty"`
	PathPrefixes []string `json:"path_prefixes,omitempty"`
	PathRegexes  []string `json:"path_regexes,omitempty"`
	Methods      []string `json:"methods,omitempty"`
}

func (m *Match) empty() bool {
	return m == nil || len(m.Hosts)+len(m.Paths)+len(m.PathPrefixes)+len(m.PathRegexes)+len(m.Methods) == 0
}

// JSON returns the configuration, indented.
func (c *Config) JSON() []byte {
	b, _ := json.MarshalIndent(c, "", "  ")
	return append(b, '\n')
}

// Import converts the resources of the documents (each decoded from JSON or
// YAML into JSON). Resources of other kinds are skipped, and named in the
// returned Result's Sources; a file with no resource to import is an error.
func Import(docs [][]byte) (*Result, error) {
	c := &converter{}
	found := false
	var errs []error
	for i, doc := range docs {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		_ = json.Unmarshal(doc, &head)
		group, _, _ := strings.Cut(head.APIVersion, "/")
		var err error
		switch {
		case group == "networking.istio.io" && head.Kind == "VirtualService":
			found = true
			err = c.istio(doc)
		case group == "gateway.networking.k8s.io" && head.Kind == "HTTPRoute":
			found = true
			err = c.gateway(doc)
		case head.Kind == "":
			var n int
			n, err = c.envoy(doc)
			found = found || n > 0
		default:
			c.sources = append(c.sources, fmt.Sprintf("document %d: %s %s: skipped, not a resource corsctl imports", i+1, head.APIVersion, head.Kind))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if !found {
		return nil, errors.New("nothing to import: want an Istio VirtualService, a Gateway API HTTPRoute, or Envoy route configuration (virtual_hosts) in YAML or JSON")
	}
	c.finish()
	res := &Result{Config: Config{Rules: c.rules}, Changes: c.changes, Sources: c.sources}
	res.Config.Description = "Imported by corsctl import from " + strings.Join(c.names, ", ")
	if len(res.Config.Rules) == 0 {
		return nil, errors.New("no CORS settings found: none of the routes has a CORS policy")
	}
	return res, nil
}

// converter accumulates the rules of every resource.
type converter struct {
	rules   []Rule
	changes []Change
	sources []string
	names   []string // the resources imported, for the description
	group   int      // the resource being converted, in file order
}

func (c *converter) change(where, format string, args ...any) {
	c.changes = append(c.changes, Change{Where: where, Msg: fmt.Sprintf(format, args...)})
}

// finish sorts the rules by their peer's precedence, drops the rules that
// leave requests untouched when no CORS rule follows them, and makes the
// names unique.
func (c *converter) finish() {
	sort.SliceStable(c.rules, func(i, j int) bool { return less(c.rules[i].order, c.rules[j].order) })
	for len(c.rules) > 0 && c.rules[len(c.rules)-1].Mode == "off" {
		c.rules = c.rules[:len(c.rules)-1]
	}
	seen := map[string]bool{}
	for i := range c.rules {
		base := ruleName(c.rules[i].Name)
		name := base
		for n := 2; seen[metricKey(name)]; n++ {
			suffix := "-" + strconv.Itoa(n)
			name = base[:min(len(base), 64-len(suffix))] + suffix
		}
		seen[metricKey(name)] = true
		c.rules[i].Name = name
	}
}

func less(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

var nameChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// ruleName makes a rule name out of a resource's: 1 to 64 of
// [A-Za-z0-9_-].
func ruleName(s string) string {
	s = strings.Trim(nameChars.ReplaceAllString(s, "-"), "-")
	if s == "" {
		s = "rule"
	}
	return s[:min(len(s), 64)]
}

// metricKey is a rule name as Prometheus sees it (policy refuses two rules
// with one).
func metricKey(s string) string { return strings.ReplaceAll(s, "-", "_") }
