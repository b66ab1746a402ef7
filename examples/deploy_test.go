package examples

import (
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	istioext "istio.io/api/extensions/v1alpha1"
	"sigs.k8s.io/yaml"

	"github.com/corsfilter/corsfilter/policy"
)

// placeholderDigest is the manifest digest every example pins: all zeros,
// an obvious stand-in for the digest that make oci prints for the user's
// own build. A real digest would be stale at the next change to cors.wasm
// (the digest is a function of its bytes), so the examples carry none.
const placeholderDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

var anyDigest = regexp.MustCompile(`sha256:[0-9a-f]{64}\b|\bsha256: *"?[0-9a-f]{64}\b`)

// TestExamplesPinThePlaceholderDigest: every sha256 digest written in an
// example is the placeholder, so none can go stale; the README tells users
// to replace it with the one make oci prints.
func TestExamplesPinThePlaceholderDigest(t *testing.T) {
	var n int
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(path, "testdata") {
			return err
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" && ext != ".md" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range anyDigest.FindAllString(string(data), -1) {
			n++
			if m != placeholderDigest {
				t.Errorf("%s pins %s: examples pin the placeholder %s, which users replace with the digest make oci prints", path, m, placeholderDigest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Errorf("%d pinned digests in the examples, want at least the Istio (2), Envoy Gateway and Higress ones", n)
	}
}

// checkPinnedOCI requires an OCI image reference pinned by manifest digest:
// registry/repository@sha256:<hex>, with an oci:// scheme when scheme is set.
func checkPinnedOCI(t *testing.T, where, ref string, scheme bool) {
	t.Helper()
	if scheme {
		var ok bool
		if ref, ok = strings.CutPrefix(ref, "oci://"); !ok {
			t.Errorf("%s: url %q, want oci://", where, ref)
			return
		}
	}
	repo, digest, ok := strings.Cut(ref, "@")
	if !ok || digest != placeholderDigest {
		t.Errorf("%s: %q is not pinned to the image's manifest digest (REPOSITORY@%s)", where, ref, placeholderDigest)
	}
	if !strings.Contains(repo, "/") || strings.Contains(repo, ":") {
		t.Errorf("%s: %q: want registry/repository@digest, without a tag", where, ref)
	}
}

// istioCRDSpec returns the openAPIV3Schema of spec that istio.io/api (the
// version in go.mod) gives kind in its generated CRDs.
func istioCRDSpec(t *testing.T, kind string) map[string]any {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/api").Output()
	if err != nil {
		t.Fatalf("go list -m istio.io/api: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "kubernetes", "customresourcedefinitions.gen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for doc := range strings.SplitSeq(string(data), "\n---\n") {
		var crd struct {
			Spec struct {
				Names    struct{ Kind string } `json:"names"`
				Versions []struct {
					Name   string `json:"name"`
					Schema struct {
						OpenAPIV3Schema struct {
							Properties map[string]map[string]any `json:"properties"`
						} `json:"openAPIV3Schema"`
					} `json:"schema"`
				} `json:"versions"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &crd); err != nil || crd.Spec.Names.Kind != kind {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Name == "v1alpha1" {
				return v.Schema.OpenAPIV3Schema.Properties["spec"]
			}
		}
	}
	t.Fatalf("no v1alpha1 %s in istio.io/api's CRDs", kind)
	return nil
}

// istioTrafficExtension checks a TrafficExtension object against
// istio.io/api's proto, rejecting unknown fields and enum values.
func istioTrafficExtension(obj map[string]any) (*istioext.TrafficExtension, error) {
	var te istioext.TrafficExtension
	return &te, istioSpec(obj, "TrafficExtension", &te)
}

// TestIstioTrafficExtensionExample checks trafficextension.yaml against
// istio.io/api's TrafficExtension proto and CRD schema, the settings that
// matter (phase, priority, fail strategy, a pinned image), and that it
// carries the same policy as wasmplugin.yaml.
func TestIstioTrafficExtensionExample(t *testing.T) {
	objs := k8sObjects(t, "istio/trafficextension.yaml")
	if len(objs) != 1 {
		t.Fatalf("want one TrafficExtension, got %d objects", len(objs))
	}
	te, err := istioTrafficExtension(objs[0])
	if err != nil {
		t.Fatalf("trafficextension.yaml: %v", err)
	}
	v := &openAPIValidator{}
	v.validate(istioCRDSpec(t, "TrafficExtension"), objs[0]["spec"], "spec")
	for _, err := range v.errs {
		t.Errorf("trafficextension.yaml: %v", err)
	}
	if te.GetPhase() != istioext.TrafficExtension_AUTHN {
		t.Errorf("phase = %v, want AUTHN (before Istio's authentication filters)", te.GetPhase())
	}
	if te.GetPriority().GetValue() < 100 {
		t.Errorf("priority = %v, want a high priority so it runs first within AUTHN", te.GetPriority())
	}
	if te.GetSelector() != nil && len(te.GetTargetRefs()) > 0 {
		t.Error("only one of selector or targetRefs can be set")
	}
	w := te.GetWasm()
	if w == nil || te.GetLua() != nil {
		t.Fatal("exactly one of wasm or lua must be set, and this is a Wasm filter")
	}
	if w.GetFailStrategy() != istioext.FailStrategy_FAIL_CLOSE {
		t.Errorf("wasm.failStrategy = %v, want FAIL_CLOSE", w.GetFailStrategy())
	}
	if w.GetType() != istioext.PluginType_HTTP {
		t.Errorf("wasm.type = %v, want HTTP", w.GetType())
	}
	checkPinnedOCI(t, "trafficextension.yaml wasm.url", w.GetUrl(), true)
	config, err := protojson.Marshal(w.GetPluginConfig())
	if err != nil {
		t.Fatal(err)
	}
	got := parsePolicy(t, "trafficextension.yaml wasm.pluginConfig", config)

	wp, err := istioWasmPlugin(k8sObjects(t, "istio/wasmplugin.yaml")[0])
	if err != nil {
		t.Fatal(err)
	}
	checkPinnedOCI(t, "wasmplugin.yaml url", wp.GetUrl(), true)
	config, err = protojson.Marshal(wp.GetPluginConfig())
	if err != nil {
		t.Fatal(err)
	}
	if want := parsePolicy(t, "wasmplugin.yaml pluginConfig", config); got.String() != want.String() {
		t.Errorf("trafficextension.yaml and wasmplugin.yaml carry different policies:\n%s\n%s", got, want)
	}
	if te.GetPhase().String() != wp.GetPhase().String() || te.GetPriority().GetValue() != wp.GetPriority().GetValue() {
		t.Errorf("the TrafficExtension runs at %v/%d, the WasmPlugin at %v/%d: want the same place",
			te.GetPhase(), te.GetPriority().GetValue(), wp.GetPhase(), wp.GetPriority().GetValue())
	}

	// The WasmPlugin against its CRD schema too.
	v = &openAPIValidator{}
	v.validate(istioCRDSpec(t, "WasmPlugin"), k8sObjects(t, "istio/wasmplugin.yaml")[0]["spec"], "spec")
	for _, err := range v.errs {
		t.Errorf("wasmplugin.yaml: %v", err)
	}
}

func TestIstioTrafficExtensionSchemaCatchesMistakes(t *testing.T) {
	tests := []struct {
		desc string
		edit func(spec map[string]any)
	}{
		{desc: "WasmPlugin's flat url", edit: func(s map[string]any) { s["url"] = s["wasm"].(map[string]any)["url"] }},
		{desc: "unknown phase", edit: func(s map[string]any) { s["phase"] = "FIRST" }},
		{desc: "unknown wasm field", edit: func(s map[string]any) { s["wasm"].(map[string]any)["rootID"] = "cors" }},
		{desc: "sha256 that is not a digest", edit: func(s map[string]any) { s["wasm"].(map[string]any)["sha256"] = "sha256:abc" }},
		{desc: "wasm and lua", edit: func(s map[string]any) { s["lua"] = map[string]any{"inlineCode": "function envoy_on_request(h) end"} }},
	}
	schema := istioCRDSpec(t, "TrafficExtension")
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			obj := k8sObjects(t, "istio/trafficextension.yaml")[0]
			tt.edit(obj["spec"].(map[string]any))
			_, err := istioTrafficExtension(obj)
			v := &openAPIValidator{}
			v.validate(schema, obj["spec"], "spec")
			if err == nil && len(v.errs) == 0 {
				t.Error("the mistake was accepted by both the proto and the CRD schema")
			}
		})
	}
}

// TestEnvoyGatewayReferences checks what the schemas cannot: the Gateway
// names the EnvoyProxy, which must sit in the Gateway's namespace (a
// Gateway's infrastructure.parametersRef is local); the EnvoyProxy merges
// into the GatewayClass's instead of replacing it; the policy targets a
// route in its own namespace; the image is pinned by digest.
func TestEnvoyGatewayReferences(t *testing.T) {
	byKind := map[string]map[string]any{}
	for _, obj := range k8sObjects(t, "envoy-gateway/extension-policy.yaml") {
		byKind[obj["kind"].(string)] = obj
	}
	meta := func(kind string) (name, ns string) {
		m, _ := byKind[kind]["metadata"].(map[string]any)
		name, _ = m["name"].(string)
		ns, _ = m["namespace"].(string)
		return name, ns
	}
	gw, ep, eep := byKind["Gateway"], byKind["EnvoyProxy"], byKind["EnvoyExtensionPolicy"]
	if gw == nil || ep == nil || eep == nil {
		t.Fatalf("want a Gateway, an EnvoyProxy and an EnvoyExtensionPolicy, got %v", slices.Sorted(maps.Keys(byKind)))
	}
	epName, epNS := meta("EnvoyProxy")
	_, gwNS := meta("Gateway")
	_, eepNS := meta("EnvoyExtensionPolicy")
	ref, _ := gw["spec"].(map[string]any)["infrastructure"].(map[string]any)["parametersRef"].(map[string]any)
	if ref["group"] != "gateway.envoyproxy.io" || ref["kind"] != "EnvoyProxy" || ref["name"] != epName {
		t.Errorf("the Gateway's infrastructure.parametersRef %v does not name the EnvoyProxy %s", ref, epName)
	}
	if epNS != gwNS {
		t.Errorf("the EnvoyProxy is in namespace %q and the Gateway in %q: a Gateway can only reference an EnvoyProxy in its own namespace", epNS, gwNS)
	}
	if eepNS != gwNS {
		t.Errorf("the EnvoyExtensionPolicy is in %q, the Gateway and its route in %q", eepNS, gwNS)
	}
	switch mt := ep["spec"].(map[string]any)["mergeType"]; mt {
	case "StrategicMerge", "JSONMerge":
	default:
		t.Errorf("EnvoyProxy mergeType = %v: unset or Replace, the Gateway's EnvoyProxy replaces the GatewayClass's settings as a whole", mt)
	}
	for _, w := range eep["spec"].(map[string]any)["wasm"].([]any) {
		url := w.(map[string]any)["code"].(map[string]any)["image"].(map[string]any)["url"].(string)
		checkPinnedOCI(t, "extension-policy.yaml code.image.url", url, false)
	}
}

// higressSchema returns the spec schema of Higress's WasmPlugin CRD.
func higressSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("higress/testdata/wasmplugin.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s.Properties["spec"]
}

// higressPluginConfig is what Higress hands the plugin for a WasmPlugin
// (pkg/ingress/config/ingress_config.go): pluginConfig if set, else
// defaultConfig (unless defaultConfigDisable) with each enabled match rule
// added under "_rules_", its conditions as "_match_route_",
// "_match_service_" and "_match_domain_".
func higressPluginConfig(spec map[string]any) ([]byte, error) {
	if pc, ok := spec["pluginConfig"]; ok {
		return json.Marshal(pc)
	}
	config := map[string]any{}
	if spec["defaultConfigDisable"] != true {
		if dc, ok := spec["defaultConfig"].(map[string]any); ok {
			config = dc
		}
	}
	var rules []any
	for _, r := range spec["matchRules"].([]any) {
		r := r.(map[string]any)
		if r["configDisable"] == true {
			continue
		}
		rule, _ := r["config"].(map[string]any)
		if rule == nil {
			rule = map[string]any{}
		}
		valid := false
		for from, to := range map[string]string{"ingress": "_match_route_", "service": "_match_service_", "domain": "_match_domain_"} {
			if l, _ := r[from].([]any); len(l) > 0 {
				rule[to], valid = l, true
			}
		}
		if !valid {
			return nil, errors.New("invalid match rule has no match condition")
		}
		rules = append(rules, rule)
	}
	if len(rules) > 0 {
		config["_rules_"] = rules
	}
	return json.Marshal(config)
}

// TestHigressExample checks higress/wasmplugin.yaml against Higress's CRD
// schema, runs policy.Parse on the configuration Higress derives from it,
// and shows why it has no matchRules: the configuration Higress would
// derive is refused.
func TestHigressExample(t *testing.T) {
	objs := k8sObjects(t, "higress/wasmplugin.yaml")
	if len(objs) != 1 || objs[0]["apiVersion"] != "extensions.higress.io/v1alpha1" || objs[0]["kind"] != "WasmPlugin" {
		t.Fatalf("want one extensions.higress.io/v1alpha1 WasmPlugin, got %v", objs)
	}
	obj := objs[0]
	for k := range obj {
		if !slices.Contains([]string{"apiVersion", "kind", "metadata", "spec"}, k) {
			t.Errorf("unknown top-level field %s", k)
		}
	}
	schema := higressSchema(t)
	v := &openAPIValidator{}
	v.validate(schema, obj["spec"], "spec")
	for _, err := range v.errs {
		t.Errorf("higress/wasmplugin.yaml: %v", err)
	}
	spec := obj["spec"].(map[string]any)
	checkPinnedOCI(t, "higress/wasmplugin.yaml url", spec["url"].(string), true)
	if spec["phase"] != "AUTHN" {
		t.Errorf("phase = %v, want AUTHN", spec["phase"])
	}
	if p, _ := spec["priority"].(float64); p < 400 {
		t.Errorf("priority = %v, want it above Higress's AUTHN plugins (key-auth, jwt-auth, basic-auth)", spec["priority"])
	}
	if fs, ok := spec["failStrategy"]; ok && fs != "FAIL_CLOSE" {
		t.Errorf("failStrategy = %v, want FAIL_CLOSE", fs)
	}
	if _, ok := spec["pluginConfig"]; ok {
		t.Error("the example carries its configuration in defaultConfig")
	}
	if _, ok := spec["matchRules"]; ok {
		t.Error("matchRules: Higress would add _rules_ to the configuration, which the plugin refuses")
	}
	spec["matchRules"] = []any{}
	config, err := higressPluginConfig(spec)
	if err != nil {
		t.Fatal(err)
	}
	parsePolicy(t, "higress/wasmplugin.yaml defaultConfig", config)

	// With a match rule, the configuration Higress builds is refused.
	spec["matchRules"] = []any{map[string]any{
		"domain": []any{"api.example.com"},
		"config": map[string]any{"rules": []any{map[string]any{"name": "api", "allowed_origins": []any{"https://app.example.com"}}}},
	}}
	v = &openAPIValidator{}
	v.validate(schema, spec, "spec")
	if len(v.errs) != 0 {
		t.Fatalf("the matchRules probe does not fit Higress's schema: %v", v.errs)
	}
	config, err = higressPluginConfig(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Parse(config); err == nil || !strings.Contains(err.Error(), "_rules_") {
		t.Errorf("a WasmPlugin with matchRules: policy.Parse = %v; the example and README say the plugin refuses _rules_", err)
	}

	// The schema is not vacuous.
	for _, edit := range []func(s map[string]any){
		func(s map[string]any) { s["phase"] = "FIRST" },
		func(s map[string]any) { s["defaultConfigs"] = s["defaultConfig"] },
		func(s map[string]any) { s["matchRules"] = []any{map[string]any{"domains": []any{"a"}}} },
	} {
		bad := k8sObjects(t, "higress/wasmplugin.yaml")[0]["spec"].(map[string]any)
		edit(bad)
		v := &openAPIValidator{}
		if v.validate(schema, bad, "spec"); len(v.errs) == 0 {
			t.Errorf("a mistake was accepted: %v", bad)
		}
	}
}

// kongConfig is the part of Kong's declarative configuration the example
// uses, with Kong's field names (kong/db/schema/entities: services, routes,
// filter_chains, plugins); decoding rejects any other field.
type kongConfig struct {
	FormatVersion string `json:"_format_version"`
	Services      []struct {
		Name   string `json:"name"`
		URL    string `json:"url"`
		Routes []struct {
			Name    string   `json:"name"`
			Paths   []string `json:"paths"`
			Methods []string `json:"methods"`
		} `json:"routes"`
		FilterChains []struct {
			Name    string `json:"name"`
			Enabled *bool  `json:"enabled"`
			Filters []struct {
				Name    string `json:"name"`
				Enabled *bool  `json:"enabled"`
				Config  any    `json:"config"`
			} `json:"filters"`
		} `json:"filter_chains"`
		Plugins []struct {
			Name   string         `json:"name"`
			Config map[string]any `json:"config"`
		} `json:"plugins"`
	} `json:"services"`
}

// kongAuthPlugins are Kong's Lua authentication plugins with a
// run_on_preflight setting (kong/plugins/*/schema.lua).
var kongAuthPlugins = []string{"key-auth", "jwt"}

// TestKongExample checks kong/kong.yaml's structure (Kong's declarative
// format, strictly), that its filter is the module Kong finds as cors.wasm
// with the plugin's JSON as a string (a filter without a schema takes only
// a string), that policy.Parse accepts that JSON, and that preflights get
// past the Lua auth plugins, which run before any Wasm filter.
func TestKongExample(t *testing.T) {
	data, err := os.ReadFile("kong/kong.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var kc kongConfig
	if err := yaml.UnmarshalStrict(data, &kc); err != nil {
		t.Fatalf("kong.yaml: %v", err)
	}
	if kc.FormatVersion != "3.0" {
		t.Errorf("_format_version = %q, want 3.0", kc.FormatVersion)
	}
	var filters int
	for _, s := range kc.Services {
		if s.Name == "" || !strings.HasPrefix(s.URL, "http") {
			t.Errorf("service %+v: want a name and a URL", s)
		}
		for _, r := range s.Routes {
			if len(r.Methods) > 0 && !slices.Contains(r.Methods, "OPTIONS") {
				t.Errorf("route %s: methods %v leave out OPTIONS: preflights would never reach the filter", r.Name, r.Methods)
			}
		}
		for _, fc := range s.FilterChains {
			if len(fc.Filters) == 0 {
				t.Errorf("filter chain %s: filters must not be empty", fc.Name)
			}
			for _, f := range fc.Filters {
				if f.Name != "cors" {
					continue
				}
				filters++
				config, ok := f.Config.(string)
				if !ok {
					t.Fatalf("filter cors: config is a %T; without a cors.meta.json schema Kong takes only a string", f.Config)
				}
				parsePolicy(t, "kong.yaml filter cors config", []byte(config))
			}
		}
		for _, p := range s.Plugins {
			if slices.Contains(kongAuthPlugins, p.Name) && p.Config["run_on_preflight"] != false {
				t.Errorf("plugin %s: run_on_preflight must be false: Kong runs Wasm filters after its Lua plugins, so %s would answer preflights 401", p.Name, p.Name)
			}
		}
	}
	if filters != 1 {
		t.Errorf("%d filters named cors, want 1 (Kong names a filter after its file in wasm_filters_path: cors.wasm)", filters)
	}
	bad := strings.Replace(string(data), "filter_chains:", "filter_chain:", 1)
	if err := yaml.UnmarshalStrict([]byte(bad), &kongConfig{}); err == nil {
		t.Error("a misspelled field was accepted")
	}
}
