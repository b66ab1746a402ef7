package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes content to name in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The examples' resources carry the plugin configuration in their own
// ways; check finds it in each and says which one it checked.
func TestCheckExamples(t *testing.T) {
	tests := []struct {
		file string
		want string // the ok line
	}{
		{file: "istio/wasmplugin.yaml", want: "ok: ../../examples/istio/wasmplugin.yaml: WasmPlugin istio-system/cors, spec.pluginConfig: 3 rules (public-read, app-write, admin)\n"},
		{file: "envoy-gateway/extension-policy.yaml", want: "ok: ../../examples/envoy-gateway/extension-policy.yaml: document 1, EnvoyExtensionPolicy default/cors, spec.wasm[0] (cors).config: 2 rules (public-read, app-write)\n"},
		{file: "envoy/envoy.yaml", want: `ok: ../../examples/envoy/envoy.yaml: Envoy bootstrap, envoy.filters.http.wasm "cors" (listener "ingress"), configuration value: 3 rules (public-read, app-write, admin)` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			code, stdout, stderr := runArgs("check", "-q", "../../examples/"+tt.file)
			if code != 0 || !strings.HasPrefix(stdout, tt.want) || stderr != "" {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 0, no warning, and stdout starting with\n%s", code, stdout, stderr, tt.want)
			}
		})
	}
}

// trafficExtension follows istio.io/api extensions/v1alpha1: the plugin
// configuration is spec.wasm.pluginConfig. A WasmPlugin of another plugin
// shares the file.
const trafficExtension = `apiVersion: extensions.istio.io/v1alpha1
kind: TrafficExtension
metadata:
  name: cors
  namespace: istio-ingress
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  phase: AUTHN
  wasm:
    url: oci://registry.example.com/platform/cors-wasm:v0.1.0
    pluginConfig:
      allowed_origins: [https://app.example.com]
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: openid
spec:
  url: oci://registry.example.com/openid:v1
  pluginConfig:
    openid_server: authn
`

// envoyBootstrap has two CORS filters, the second one's JSON broken on its
// third line.
const envoyBootstrap = `static_resources:
  listeners:
  - name: public
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: cors
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"allowed_origins": ["https://app.example.com"]}'
  - name: internal
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: cors-internal
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: |
                    {
                      "allowed_origins": ["https://admin.example.com"]
                      "allow_credentials": true
                    }
`

func TestCheckFindsConfigs(t *testing.T) {
	tests := []struct {
		desc    string
		name    string // the file's name
		content string
		want    int
		wantOut []string // substrings of stdout
		wantErr []string // substrings of stderr
	}{
		{
			desc: "the configuration in YAML", name: "cors.yaml",
			content: "allowed_origins:\n- https://app.example.com\nallowed_methods: [PUT]\n",
			wantOut: []string{"ok: CONFIG: 1 rule (default)\n"},
		},
		{
			desc: "a YAML configuration with a duplicate key", name: "cors.yaml",
			content: "allowed_origins: [https://a.example]\nallowed_origins: [https://b.example]\n",
			want:    1, wantErr: []string{"corsctl: CONFIG: not valid YAML: ", "line 2", `"allowed_origins" already set`},
		},
		{
			desc: "a YAML syntax error is placed in the file, past earlier documents", name: "cors.yaml",
			content: "kind: ConfigMap\napiVersion: v1\n---\nallowed_origins:\n- https://a.example\n  bad: [\n",
			want:    1, wantErr: []string{"corsctl: CONFIG: not valid YAML: line 6: "},
		},
		{
			desc: "a TrafficExtension, another plugin's WasmPlugin skipped", name: "te.yaml", content: trafficExtension,
			wantOut: []string{"ok: CONFIG: document 1, TrafficExtension istio-ingress/cors, spec.wasm.pluginConfig: 1 rule (default)\n"},
			wantErr: []string{"corsctl: CONFIG: skipped document 2, WasmPlugin openid, spec.pluginConfig: another plugin's"},
		},
		{
			desc: "an Envoy bootstrap with two CORS filters: each is checked, the broken one located in its value", name: "envoy.yaml",
			content: envoyBootstrap, want: 1,
			wantOut: []string{`ok: CONFIG: Envoy bootstrap, envoy.filters.http.wasm "cors" (listener "public"), configuration value: 1 rule (default)` + "\n"},
			wantErr: []string{
				`invalid: CONFIG: Envoy bootstrap, envoy.filters.http.wasm "cors-internal" (listener "internal"), configuration value:` + "\ncors: the configuration is not valid JSON\n",
				`CONFIG: Envoy bootstrap, envoy.filters.http.wasm "cors-internal" (listener "internal"), configuration value: line 3, column 3 of the JSON: invalid character '"' after object key:value pair`,
			},
		},
		{
			desc: "a WasmPlugin in JSON, as kubectl prints it", name: "wp.json",
			content: `{"apiVersion": "extensions.istio.io/v1alpha1", "kind": "WasmPlugin", "metadata": {"name": "cors"},
			  "spec": {"url": "oci://r/cors:v1", "pluginConfig": {"allowed_origins": ["*"], "allow_credentials": true}}}`,
			want:    1,
			wantErr: []string{"invalid: CONFIG: WasmPlugin cors, spec.pluginConfig:\ncors: allowed_origins[0]: \"*\": for security reasons"},
		},
		{
			desc: "a WasmPlugin without pluginConfig", name: "wp.yaml",
			content: "apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: cors}\nspec: {url: oci://r/cors:v1}\n",
			want:    1, wantErr: []string{"cors: the configuration is empty"},
		},
		{
			desc: "resources without a plugin configuration", name: "svc.yaml",
			content: "apiVersion: v1\nkind: Service\nmetadata: {name: api}\n",
			want:    1, wantErr: []string{"corsctl: CONFIG: no plugin configuration found: want the JSON configuration"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			path := writeFile(t, tt.name, tt.content)
			code, stdout, stderr := runArgs("check", "-q", path)
			stdout, stderr = strings.ReplaceAll(stdout, path, "CONFIG"), strings.ReplaceAll(stderr, path, "CONFIG")
			if code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, stdout, stderr)
			}
			for _, s := range tt.wantOut {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

// explain, replay and serve need one configuration: a file of resources
// with several is refused with their names.
func TestExplainNeedsOneConfig(t *testing.T) {
	path := writeFile(t, "envoy.yaml", envoyBootstrap)
	code, stdout, stderr := runArgs("explain", path, "-origin", "https://app.example.com")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "holds 2 CORS plugin configurations") || !strings.Contains(stderr, `"cors-internal"`) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 naming both configurations", code, stdout, stderr)
	}
	path = writeFile(t, "te.yaml", trafficExtension)
	code, stdout, stderr = runArgs("explain", path, "-origin", "https://app.example.com")
	if code != 0 || !strings.Contains(stdout, "verdict:   ALLOWED") {
		t.Errorf("explain on a TrafficExtension: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestReplayLocatesSyntaxErrors(t *testing.T) {
	wasm := testWasm(t)
	path := writeFile(t, "cors.json", "{\n\"allowed_origins\": [\"https://a.example\"]\n\"debug\": true}")
	code, stdout, stderr := runArgs("replay", path, "-wasm", wasm)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "cors: ") || !strings.Contains(stderr, path+":3:1: invalid character") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, the plugin's error and the line and column", code, stdout, stderr)
	}
	path = writeFile(t, "te.yaml", trafficExtension)
	var in = `{"id":1,"method":"GET","headers":[["origin","https://app.example.com"]]}` + "\n"
	var out, errOut strings.Builder
	if code := run([]string{"replay", path, "-wasm", wasm}, strings.NewReader(in), &out, &errOut); code != 0 || !strings.Contains(out.String(), `"access-control-allow-origin","https://app.example.com"`) {
		t.Errorf("replay of a TrafficExtension: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
