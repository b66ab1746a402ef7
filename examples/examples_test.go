package examples

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
	istioext "istio.io/api/extensions/v1alpha1"
	istiomesh "istio.io/api/mesh/v1alpha1"
	"sigs.k8s.io/yaml"

	"github.com/corsfilter/corsfilter/policy"
)

const (
	wasmFilter = "envoy.filters.http.wasm"
	jwtFilter  = "envoy.filters.http.jwt_authn"
)

// validator is what protoc-gen-validate generates on every Envoy message.
type validator interface{ ValidateAll() error }

// parsePolicy runs policy.Parse on an example's plugin configuration.
func parsePolicy(t *testing.T, where string, config []byte) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(config)
	if err != nil {
		t.Fatalf("%s: policy.Parse:\n%v\nconfig:\n%s", where, err, config)
	}
	for _, w := range p.Warnings() {
		t.Errorf("%s: an example should not need a warning: %s", where, w)
	}
	return p
}

// envoyBootstrap loads an Envoy bootstrap YAML into the go-control-plane
// proto, rejecting unknown fields, and runs the generated validation on it
// and on every typed_config inside it.
func envoyBootstrap(yml []byte) (*bootstrapv3.Bootstrap, error) {
	js, err := yaml.YAMLToJSON(yml)
	if err != nil {
		return nil, err
	}
	var bs bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &bs); err != nil {
		return nil, err
	}
	if err := bs.ValidateAll(); err != nil {
		return nil, err
	}
	return &bs, nil
}

// connectionManagers returns the HTTP connection managers of every
// listener, decoded and validated.
func connectionManagers(bs *bootstrapv3.Bootstrap) ([]*hcmv3.HttpConnectionManager, error) {
	var out []*hcmv3.HttpConnectionManager
	for _, l := range bs.GetStaticResources().GetListeners() {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				hcm := &hcmv3.HttpConnectionManager{}
				if !f.GetTypedConfig().MessageIs(hcm) {
					continue
				}
				if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
					return nil, err
				}
				if err := hcm.ValidateAll(); err != nil {
					return nil, err
				}
				out = append(out, hcm)
			}
		}
	}
	return out, nil
}

// httpFilters returns the HTTP filter chains of every listener, each filter's
// typed_config decoded and validated.
func httpFilters(bs *bootstrapv3.Bootstrap) ([][]*hcmv3.HttpFilter, error) {
	hcms, err := connectionManagers(bs)
	if err != nil {
		return nil, err
	}
	var chains [][]*hcmv3.HttpFilter
	for _, hcm := range hcms {
		for _, hf := range hcm.GetHttpFilters() {
			m, err := hf.GetTypedConfig().UnmarshalNew()
			if err != nil {
				return nil, err
			}
			if v, ok := m.(validator); ok {
				if err := v.ValidateAll(); err != nil {
					return nil, err
				}
			}
		}
		chains = append(chains, hcm.GetHttpFilters())
	}
	return chains, nil
}

// checkPathNormalization requires the path normalization that path rules
// assume: without it /a/../b, //b and /a%2Fb reach the upstream under
// another rule's path.
func checkPathNormalization(t *testing.T, hcm *hcmv3.HttpConnectionManager) {
	t.Helper()
	if !hcm.GetNormalizePath().GetValue() {
		t.Error("http_connection_manager: normalize_path must be true: path rules assume a normalized path")
	}
	if !hcm.GetMergeSlashes() {
		t.Error("http_connection_manager: merge_slashes must be true: path rules assume a normalized path")
	}
	switch a := hcm.GetPathWithEscapedSlashesAction(); a {
	case hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT, hcmv3.HttpConnectionManager_REJECT_REQUEST:
	default:
		t.Errorf("http_connection_manager: path_with_escaped_slashes_action is %v; want UNESCAPE_AND_REDIRECT or REJECT_REQUEST, so %%2F cannot hide a path from the rules", a)
	}
}

func TestEnvoyExample(t *testing.T) {
	yml, err := os.ReadFile("envoy/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := envoyBootstrap(yml)
	if err != nil {
		t.Fatalf("envoy.yaml is not a valid bootstrap: %v", err)
	}
	chains, err := httpFilters(bs)
	if err != nil {
		t.Fatalf("envoy.yaml: %v", err)
	}
	if len(chains) == 0 {
		t.Fatal("envoy.yaml has no http_connection_manager")
	}
	hcms, err := connectionManagers(bs)
	if err != nil {
		t.Fatalf("envoy.yaml: %v", err)
	}
	for _, hcm := range hcms {
		checkPathNormalization(t, hcm)
	}
	for _, chain := range chains {
		names := make([]string, len(chain))
		for i, f := range chain {
			names[i] = f.GetName()
		}
		iw, ij := slices.Index(names, wasmFilter), slices.Index(names, jwtFilter)
		if iw < 0 {
			t.Fatalf("no %s in %v", wasmFilter, names)
		}
		if ij >= 0 && iw > ij {
			t.Errorf("filters %v: the CORS filter must come before jwt_authn, or preflights get 401", names)
		}
		if names[len(names)-1] != "envoy.filters.http.router" {
			t.Errorf("filters %v: the router must be last", names)
		}
		var w wasmfilterv3.Wasm
		if err := chain[iw].GetTypedConfig().UnmarshalTo(&w); err != nil {
			t.Fatal(err)
		}
		pc := w.GetConfig()
		vm := pc.GetVmConfig()
		if got := vm.GetRuntime(); got != "envoy.wasm.runtime.v8" {
			t.Errorf("vm_config.runtime = %q, want envoy.wasm.runtime.v8", got)
		}
		if got := vm.GetCode().GetLocal().GetFilename(); !strings.HasSuffix(got, "cors.wasm") {
			t.Errorf("vm_config.code.local.filename = %q, want the built cors.wasm", got)
		}
		// Envoy still honours the deprecated fail_open when failure_policy is
		// unset, so an example must set neither to fail open.
		//lint:ignore SA1019 the deprecated field is read on purpose, see above
		if pc.GetFailOpen() || pc.GetFailurePolicy() == wasmv3.FailurePolicy_FAIL_OPEN {
			t.Error("the CORS filter must fail closed")
		}
		var sv wrapperspb.StringValue
		if err := pc.GetConfiguration().UnmarshalTo(&sv); err != nil {
			t.Fatalf("configuration must be a google.protobuf.StringValue holding the JSON: %v", err)
		}
		p := parsePolicy(t, "envoy.yaml", []byte(sv.GetValue()))
		// The example's point: a preflight from the app origin passes.
		d := p.Decide(&policy.Request{
			Method: "OPTIONS", Scheme: "http", Authority: "127.0.0.1:8080", Path: "/api/app/orders",
			Origin: []string{"https://app.example.com"}, ACRM: []string{"POST"}, ACRH: []string{"content-type,x-csrf-token"},
		})
		if d.Outcome != policy.OutcomePreflightAllowed {
			t.Errorf("app preflight: outcome %v (%s), want preflight_allowed", d.Outcome, d.Reason)
		}
	}
}

// composeFile is examples/envoy/docker-compose.yml, as far as the tests
// read it.
type composeFile struct {
	Services map[string]struct {
		Image   string   `json:"image"`
		Command []string `json:"command"`
		Configs []struct {
			Source string `json:"source"`
			Target string `json:"target"`
		} `json:"configs"`
		Volumes []string `json:"volumes"`
		Ports   []string `json:"ports"`
	} `json:"services"`
	Configs map[string]struct {
		Content string `json:"content"`
	} `json:"configs"`
}

// normalizeForCompose sets, in an Envoy bootstrap, the fields a container
// needs to differ from envoy.yaml (listener and admin addresses, the
// upstream's address and discovery, the module's path) to fixed values, so
// that the rest can be compared.
func normalizeForCompose(t *testing.T, bs *bootstrapv3.Bootstrap) {
	t.Helper()
	for _, l := range bs.GetStaticResources().GetListeners() {
		l.GetAddress().GetSocketAddress().Address = "LISTENER"
	}
	bs.GetAdmin().GetAddress().GetSocketAddress().Address = "ADMIN"
	for _, c := range bs.GetStaticResources().GetClusters() {
		c.ClusterDiscoveryType, c.DnsLookupFamily = nil, 0
		for _, e := range c.GetLoadAssignment().GetEndpoints() {
			for _, lb := range e.GetLbEndpoints() {
				lb.GetEndpoint().GetAddress().GetSocketAddress().Address = "UPSTREAM"
			}
		}
	}
	for _, l := range bs.GetStaticResources().GetListeners() {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				hcm := &hcmv3.HttpConnectionManager{}
				if f.GetTypedConfig().UnmarshalTo(hcm) != nil {
					continue
				}
				for _, hf := range hcm.GetHttpFilters() {
					var w wasmfilterv3.Wasm
					if hf.GetTypedConfig().UnmarshalTo(&w) != nil {
						continue
					}
					w.GetConfig().GetVmConfig().GetCode().GetLocal().Specifier = nil
					if err := hf.GetTypedConfig().MarshalFrom(&w); err != nil {
						t.Fatal(err)
					}
				}
				if err := f.GetTypedConfig().MarshalFrom(hcm); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestEnvoyComposeExample checks docker-compose.yml, which runs the
// README's Envoy configuration on two Envoy versions: its Envoy
// configuration is a valid bootstrap (go-control-plane, with every nested
// typed_config), differs from envoy.yaml only where a container must, names
// the module where the compose file mounts it, and holds the plugin
// configuration of cors.json, which smoke.sh gives corsctl replay; the two
// Envoys sit on either side of the poll_oneoff fix; smoke.sh parses.
func TestEnvoyComposeExample(t *testing.T) {
	data, err := os.ReadFile("envoy/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(data, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	content := cf.Configs["envoy"].Content
	bs, err := envoyBootstrap([]byte(content))
	if err != nil {
		t.Fatalf("docker-compose.yml configs.envoy is not a valid Envoy bootstrap: %v", err)
	}
	chains, err := httpFilters(bs)
	if err != nil || len(chains) == 0 {
		t.Fatalf("docker-compose.yml configs.envoy: %v, %d filter chains", err, len(chains))
	}
	readme, err := os.ReadFile("envoy/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := envoyBootstrap(readme)
	if err != nil {
		t.Fatal(err)
	}
	var filename, pluginConfig string
	for _, hf := range chains[0] {
		var w wasmfilterv3.Wasm
		if hf.GetTypedConfig().UnmarshalTo(&w) != nil {
			continue
		}
		filename = w.GetConfig().GetVmConfig().GetCode().GetLocal().GetFilename()
		var sv wrapperspb.StringValue
		if err := w.GetConfig().GetConfiguration().UnmarshalTo(&sv); err != nil {
			t.Fatal(err)
		}
		pluginConfig = sv.GetValue()
	}
	normalizeForCompose(t, bs)
	normalizeForCompose(t, want)
	if !proto.Equal(bs, want) {
		t.Errorf("docker-compose.yml's Envoy configuration differs from envoy.yaml beyond addresses and the module path:\n got  %v\n want %v", bs, want)
	}

	// Both Envoys load that configuration and the module where it says.
	versions := map[string]string{"envoy-1.38": "envoyproxy/envoy:v1.38", "envoy-1.39": "envoyproxy/envoy:v1.39"}
	for name, image := range versions {
		svc, ok := cf.Services[name]
		if !ok {
			t.Fatalf("docker-compose.yml has no service %s", name)
		}
		if !strings.HasPrefix(svc.Image, image) {
			t.Errorf("%s: image %q; want %s (either side of the poll_oneoff fix)", name, svc.Image, image)
		}
		if len(svc.Configs) != 1 || svc.Configs[0].Source != "envoy" || svc.Configs[0].Target != "/etc/envoy/envoy.yaml" {
			t.Errorf("%s: configs %+v; want configs.envoy at /etc/envoy/envoy.yaml, where the image reads it", name, svc.Configs)
		}
		if !slices.Contains(svc.Volumes, "../../build/cors.wasm:"+filename+":ro") {
			t.Errorf("%s: volumes %v do not mount build/cors.wasm at %s, the filename the configuration names", name, svc.Volumes, filename)
		}
	}

	// smoke.sh replays cors.json: it must be the configuration Envoy runs.
	fromFile, err := os.ReadFile("envoy/cors.json")
	if err != nil {
		t.Fatal(err)
	}
	a := parsePolicy(t, "docker-compose.yml", []byte(pluginConfig))
	b := parsePolicy(t, "envoy/cors.json", fromFile)
	if a.String() != b.String() {
		t.Errorf("envoy/cors.json is not the plugin configuration of docker-compose.yml:\n%s\n%s", b, a)
	}

	// smoke.sh's defaults are the ports the compose file publishes.
	script, err := os.ReadFile("envoy/smoke.sh")
	if err != nil {
		t.Fatal(err)
	}
	published := map[string]string{"envoy-1.38": "127.0.0.1:8138", "envoy-1.39": "127.0.0.1:8139", "api": "127.0.0.1:8190"}
	for name, addr := range published {
		if !slices.ContainsFunc(cf.Services[name].Ports, func(p string) bool { return strings.HasPrefix(p, addr+":") }) {
			t.Errorf("%s does not publish %s", name, addr)
		}
		if !bytes.Contains(script, []byte("http://"+addr)) {
			t.Errorf("smoke.sh does not default to http://%s", addr)
		}
	}
	if out, err := exec.Command("bash", "-n", "envoy/smoke.sh").CombinedOutput(); err != nil {
		t.Errorf("bash -n smoke.sh: %v\n%s", err, out)
	}
}

// TestEnvoyExampleSchemaCatchesMistakes shows the bootstrap check is not
// vacuous: each mistake in envoy.yaml must be rejected.
func TestEnvoyExampleSchemaCatchesMistakes(t *testing.T) {
	yml, err := os.ReadFile("envoy/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc, old, new string
	}{
		{desc: "unknown field", old: "vm_id: cors", new: "vm_idd: cors"},
		{desc: "unknown typed_config type", old: "filters.http.wasm.v3.Wasm", new: "filters.http.wasm.v3.Wasmm"},
		{desc: "port out of range (validate rule)", old: "port_value: 8090", new: "port_value: 70000"},
		{desc: "empty cluster name in a route (validate rule)", old: "route: {cluster: demo_api}", new: "route: {cluster: \"\"}"},
		{desc: "unknown field inside a nested typed_config", old: "inline_string:", new: "inline_strin:"},
		{desc: "empty http filter name (validate rule, nested typed_config)", old: "- name: envoy.filters.http.router", new: "- name: \"\""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if !bytes.Contains(yml, []byte(tt.old)) {
				t.Fatalf("envoy.yaml no longer contains %q", tt.old)
			}
			bad := bytes.Replace(yml, []byte(tt.old), []byte(tt.new), 1)
			bs, err := envoyBootstrap(bad)
			if err == nil {
				_, err = httpFilters(bs)
			}
			if err == nil {
				t.Errorf("the mistake %q -> %q was accepted", tt.old, tt.new)
			}
		})
	}
}

// k8sObject splits a Kubernetes manifest into its documents, decoded as JSON
// values.
func k8sObjects(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	for doc := range strings.SplitSeq(string(data), "\n---\n") {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var obj map[string]any
		if err := json.Unmarshal(js, &obj); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if obj != nil {
			objs = append(objs, obj)
		}
	}
	return objs
}

// istioWasmPlugin checks a WasmPlugin object against istio.io/api's proto,
// rejecting unknown fields.
func istioWasmPlugin(obj map[string]any) (*istioext.WasmPlugin, error) {
	var wp istioext.WasmPlugin
	return &wp, istioSpec(obj, "WasmPlugin", &wp)
}

// istioSpec checks an extensions.istio.io/v1alpha1 object of the given kind
// against istio.io/api's proto, rejecting unknown fields, and decodes its
// spec into msg.
func istioSpec(obj map[string]any, kind string, msg proto.Message) error {
	if obj["apiVersion"] != "extensions.istio.io/v1alpha1" || obj["kind"] != kind {
		return errors.New("not an extensions.istio.io/v1alpha1 " + kind)
	}
	for k := range obj {
		if !slices.Contains([]string{"apiVersion", "kind", "metadata", "spec"}, k) {
			return errors.New("unknown top-level field " + k)
		}
	}
	spec, err := json.Marshal(obj["spec"])
	if err != nil {
		return err
	}
	return protojson.Unmarshal(spec, msg)
}

func TestIstioExample(t *testing.T) {
	objs := k8sObjects(t, "istio/wasmplugin.yaml")
	if len(objs) != 1 {
		t.Fatalf("want one WasmPlugin, got %d objects", len(objs))
	}
	wp, err := istioWasmPlugin(objs[0])
	if err != nil {
		t.Fatalf("wasmplugin.yaml: %v", err)
	}
	if wp.GetPhase() != istioext.PluginPhase_AUTHN {
		t.Errorf("phase = %v, want AUTHN (before Istio's authentication filters)", wp.GetPhase())
	}
	if wp.GetPriority() == nil || wp.GetPriority().GetValue() < 100 {
		t.Errorf("priority = %v, want a high priority so it runs first within AUTHN", wp.GetPriority())
	}
	if wp.GetFailStrategy() != istioext.FailStrategy_FAIL_CLOSE {
		t.Errorf("failStrategy = %v, want FAIL_CLOSE", wp.GetFailStrategy())
	}
	if !strings.HasPrefix(wp.GetUrl(), "oci://") {
		t.Errorf("url = %q, want an OCI image", wp.GetUrl())
	}
	// Istio hands pluginConfig to the plugin as JSON.
	config, err := protojson.Marshal(wp.GetPluginConfig())
	if err != nil {
		t.Fatal(err)
	}
	parsePolicy(t, "wasmplugin.yaml pluginConfig", config)
}

// istioMeshConfig checks an IstioOperator object holding only meshConfig
// against istio.io/api's MeshConfig proto, rejecting unknown fields.
func istioMeshConfig(obj map[string]any) (*istiomesh.MeshConfig, error) {
	if obj["apiVersion"] != "install.istio.io/v1alpha1" || obj["kind"] != "IstioOperator" {
		return nil, errors.New("not an install.istio.io/v1alpha1 IstioOperator")
	}
	spec, _ := obj["spec"].(map[string]any)
	for k := range spec {
		if k != "meshConfig" {
			return nil, errors.New("spec holds more than meshConfig: " + k)
		}
	}
	js, err := json.Marshal(spec["meshConfig"])
	if err != nil {
		return nil, err
	}
	var mc istiomesh.MeshConfig
	if err := protojson.Unmarshal(js, &mc); err != nil {
		return nil, err
	}
	return &mc, nil
}

// TestIstioStatsExample checks that the Istio stats setting keeps the
// plugin's counters: Envoy names them wasmcustom.cors.<rule>.<outcome>.
func TestIstioStatsExample(t *testing.T) {
	objs := k8sObjects(t, "istio/stats.yaml")
	if len(objs) != 1 {
		t.Fatalf("want one IstioOperator, got %d objects", len(objs))
	}
	mc, err := istioMeshConfig(objs[0])
	if err != nil {
		t.Fatalf("stats.yaml: %v", err)
	}
	included := false
	for _, p := range mc.GetDefaultConfig().GetProxyStatsMatcher().GetInclusionPrefixes() {
		included = included || strings.HasPrefix("wasmcustom.cors.app-write.preflight_allowed", p)
	}
	if !included {
		t.Errorf("proxyStatsMatcher.inclusionPrefixes %v do not include the plugin's metrics (wasmcustom.cors.*)",
			mc.GetDefaultConfig().GetProxyStatsMatcher().GetInclusionPrefixes())
	}
	bad := k8sObjects(t, "istio/stats.yaml")[0]
	bad["spec"].(map[string]any)["meshConfig"].(map[string]any)["defaultConfig"].(map[string]any)["proxyStatsMatchr"] = map[string]any{}
	if _, err := istioMeshConfig(bad); err == nil {
		t.Error("a misspelled meshConfig field was accepted")
	}
}

func TestIstioExampleSchemaCatchesMistakes(t *testing.T) {
	tests := []struct {
		desc string
		edit func(spec map[string]any)
	}{
		{desc: "unknown spec field", edit: func(s map[string]any) { s["phaze"] = "AUTHN" }},
		{desc: "unknown phase", edit: func(s map[string]any) { s["phase"] = "FIRST" }},
		{desc: "priority not a number", edit: func(s map[string]any) { s["priority"] = "high" }},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			obj := k8sObjects(t, "istio/wasmplugin.yaml")[0]
			tt.edit(obj["spec"].(map[string]any))
			if _, err := istioWasmPlugin(obj); err == nil {
				t.Error("the mistake was accepted")
			}
		})
	}
}

// egSchema returns the openAPIV3Schema Envoy Gateway v1.9.1 defines for kind
// (for Gateway, that of the Gateway API CRDs it ships).
func egSchema(t *testing.T, kind string) map[string]any {
	t.Helper()
	switch kind {
	case "Gateway":
		data, err := os.ReadFile("envoy-gateway/testdata/gateway.schema.json")
		if err != nil {
			t.Fatal(err)
		}
		var s map[string]any
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		return s
	case "EnvoyExtensionPolicy":
		data, err := os.ReadFile("envoy-gateway/testdata/gateway.envoyproxy.io_envoyextensionpolicies.yaml")
		if err != nil {
			t.Fatal(err)
		}
		var crd struct {
			Spec struct {
				Versions []struct {
					Name   string `json:"name"`
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					} `json:"schema"`
				} `json:"versions"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatal(err)
		}
		for _, v := range crd.Spec.Versions {
			if v.Name == "v1alpha1" {
				return v.Schema.OpenAPIV3Schema
			}
		}
		t.Fatal("no v1alpha1 in the EnvoyExtensionPolicy CRD")
	case "EnvoyProxy":
		data, err := os.ReadFile("envoy-gateway/testdata/envoyproxy-filterorder.schema.json")
		if err != nil {
			t.Fatal(err)
		}
		var s map[string]any
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Fatalf("no Envoy Gateway schema for kind %q", kind)
	return nil
}

func validateEG(t *testing.T, obj map[string]any) *openAPIValidator {
	t.Helper()
	kind, _ := obj["kind"].(string)
	want := "gateway.envoyproxy.io/v1alpha1"
	if kind == "Gateway" {
		want = "gateway.networking.k8s.io/v1"
	}
	if obj["apiVersion"] != want {
		t.Fatalf("%s apiVersion = %v, want %s", kind, obj["apiVersion"], want)
	}
	v := &openAPIValidator{}
	v.validate(egSchema(t, kind), obj, kind)
	return v
}

func TestEnvoyGatewayExample(t *testing.T) {
	objs := k8sObjects(t, "envoy-gateway/extension-policy.yaml")
	var policies, orders, gateways int
	for _, obj := range objs {
		v := validateEG(t, obj)
		for _, err := range v.errs {
			t.Errorf("extension-policy.yaml: %v", err)
		}
		t.Logf("%s: %d CEL rules not evaluated (the API server checks them)", obj["kind"], v.celSkipped)
		spec := obj["spec"].(map[string]any)
		switch obj["kind"] {
		case "EnvoyExtensionPolicy":
			policies++
			wasm, _ := spec["wasm"].([]any)
			if len(wasm) == 0 {
				t.Fatal("EnvoyExtensionPolicy has no wasm entry")
			}
			for _, w := range wasm {
				w := w.(map[string]any)
				if w["failOpen"] != false {
					t.Errorf("wasm %v: failOpen = %v, want an explicit false", w["name"], w["failOpen"])
				}
				config, err := json.Marshal(w["config"])
				if err != nil {
					t.Fatal(err)
				}
				parsePolicy(t, "extension-policy.yaml wasm config", config)
			}
		case "Gateway":
			gateways++
		case "EnvoyProxy":
			orders++
			// Envoy Gateway's default order puts wasm after ext_authz,
			// basic_auth, oauth2 and jwt_authn; the example must move it
			// before the first of them.
			var moved bool
			for _, fo := range spec["filterOrder"].([]any) {
				fo := fo.(map[string]any)
				moved = moved || fo["name"] == wasmFilter && fo["before"] == "envoy.filters.http.ext_authz"
			}
			if !moved {
				t.Errorf("EnvoyProxy.filterOrder must put %s before envoy.filters.http.ext_authz", wasmFilter)
			}
		}
	}
	if policies != 1 || orders != 1 || gateways != 1 {
		t.Errorf("want one EnvoyExtensionPolicy, one EnvoyProxy and one Gateway, got %d, %d and %d", policies, orders, gateways)
	}
}

func TestEnvoyGatewaySchemaCatchesMistakes(t *testing.T) {
	tests := []struct {
		desc string
		kind string
		edit func(spec map[string]any)
	}{
		{desc: "unknown wasm field", kind: "EnvoyExtensionPolicy", edit: func(s map[string]any) {
			s["wasm"].([]any)[0].(map[string]any)["rootId"] = "cors"
		}},
		{desc: "bad code type", kind: "EnvoyExtensionPolicy", edit: func(s map[string]any) {
			s["wasm"].([]any)[0].(map[string]any)["code"].(map[string]any)["type"] = "File"
		}},
		{desc: "failOpen not a boolean", kind: "EnvoyExtensionPolicy", edit: func(s map[string]any) {
			s["wasm"].([]any)[0].(map[string]any)["failOpen"] = "no"
		}},
		{desc: "missing code", kind: "EnvoyExtensionPolicy", edit: func(s map[string]any) {
			delete(s["wasm"].([]any)[0].(map[string]any), "code")
		}},
		{desc: "unknown filter name", kind: "EnvoyProxy", edit: func(s map[string]any) {
			s["filterOrder"].([]any)[0].(map[string]any)["before"] = "envoy.filters.http.jwt"
		}},
		{desc: "unknown merge type", kind: "EnvoyProxy", edit: func(s map[string]any) { s["mergeType"] = "Merge" }},
		{desc: "a namespace in the Gateway's parametersRef", kind: "Gateway", edit: func(s map[string]any) {
			s["infrastructure"].(map[string]any)["parametersRef"].(map[string]any)["namespace"] = "envoy-gateway-system"
		}},
		{desc: "Gateway without listeners", kind: "Gateway", edit: func(s map[string]any) { delete(s, "listeners") }},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			for _, obj := range k8sObjects(t, "envoy-gateway/extension-policy.yaml") {
				if obj["kind"] != tt.kind {
					continue
				}
				tt.edit(obj["spec"].(map[string]any))
				if v := validateEG(t, obj); len(v.errs) == 0 {
					t.Error("the mistake was accepted")
				}
				return
			}
			t.Fatalf("no %s in the example", tt.kind)
		})
	}
}

// TestConfigFiles parses every examples/**/cors*.json.
func TestConfigFiles(t *testing.T) {
	var n int
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ok, _ := filepath.Match("cors*.json", d.Name()); ok {
			n++
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			parsePolicy(t, path, data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no examples/**/cors*.json found")
	}
}

// TestEnvoySmokeScript runs smoke.sh as a user would, with corsctl serve
// (the real cors.wasm in the Envoy-emulating host) standing in for the two
// Envoys of docker-compose.yml, in front of the demo API: no Envoy runs
// here, but the script's requests, its replay lines and its comparison
// are exercised, and every check must pass but the one that needs
// Envoy's jwt_authn.
func TestEnvoySmokeScript(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("smoke.sh needs %s", tool)
		}
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	corsctl, wasm := filepath.Join(root, "build", "corsctl"), filepath.Join(root, "build", "cors.wasm")
	for _, f := range []string{corsctl, wasm} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CORS_REQUIRE_WASM") == "1" {
				t.Fatalf("%s is missing (CORS_REQUIRE_WASM=1): run make build", f)
			}
			t.Skipf("%s is missing: run make build", f)
		}
	}
	demo := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.Command("go", "build", "-o", demo, "../cmd/demo").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/demo: %v\n%s", err, out)
	}
	port := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	upstream, gatewayA, gatewayB := port(), port(), port()
	config := filepath.Join(root, "examples", "envoy", "cors.json")
	start := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Dir = root
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(os.Interrupt)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				<-done
			}
			if t.Failed() {
				t.Logf("%s output:\n%s", filepath.Base(name), out.String())
			}
		})
	}
	start(demo, "-corsctl", corsctl, "-wasm", wasm, "-config", config,
		"-listen", gatewayA, "-upstream-listen", upstream, "-page-listen", "127.0.0.1:0")
	start(corsctl, "serve", "-config", config, "-wasm", wasm, "-upstream", "http://"+upstream, "-listen", gatewayB)

	cmd := exec.Command("bash", filepath.Join(root, "examples", "envoy", "smoke.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"TARGETS=a=http://"+gatewayA+" b=http://"+gatewayB, "UPSTREAM=http://"+upstream,
		"CORSCTL="+corsctl, "WASM="+wasm, "CONFIG="+config, "SKIP=jwt_authn 401", "WAIT=60")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("smoke.sh: %v\n%s", err, out)
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "ok ") {
			n++
		}
	}
	if n != 16 {
		t.Errorf("smoke.sh: %d checks passed; want 8 checks on 2 proxies:\n%s", n, out)
	}
}
