package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// This file reads a configuration file as the plugin would get it: a JSON
// plugin configuration, the same in YAML, or the deployment resources that
// carry it (an Istio WasmPlugin or TrafficExtension, an Envoy Gateway
// EnvoyExtensionPolicy, an Envoy bootstrap or any resource holding the
// envoy.filters.http.wasm filter, such as an Istio EnvoyFilter).

// pluginConfig is one plugin configuration found in a file.
type pluginConfig struct {
	// where says which one it is, for a file of resources:
	// `WasmPlugin istio-system/cors, spec.pluginConfig`. It is "" for a
	// file that is the configuration itself.
	where string
	// json is the configuration the plugin receives.
	json []byte
	// embedded: json is a string value inside the file (the Envoy
	// StringValue), so positions in it are not positions in the file.
	embedded bool
	// names are what identify the plugin (resource, plugin and root names,
	// the module's URL or file), to tell the CORS plugin from others.
	names []string
}

// readFile reads path, or stdin for "-".
func readFile(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

// findConfigs returns the CORS plugin configurations in a file's contents,
// and the where of the plugin configurations it skipped as another plugin's.
// A file of resources may hold several CORS configurations; a file that is
// not JSON or YAML, or holds no plugin configuration at all, is an error.
func findConfigs(data []byte) (configs []pluginConfig, skipped []string, err error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	t := bytes.TrimSpace(data)
	switch {
	case len(t) == 0:
		// The policy says what an empty configuration lacks.
		return []pluginConfig{{json: data}}, nil, nil
	case t[0] == '{' || t[0] == '[':
		// JSON. The policy reads it strictly (duplicate keys, exact
		// types), so a configuration is passed on byte for byte; only a
		// resource is decoded here.
		var v any
		if json.Unmarshal(data, &v) != nil || !isResource(v) {
			return []pluginConfig{{json: data}}, nil, nil
		}
		configs = resourceConfigs(v, "")
	default:
		docs := yamlDocuments(data)
		for _, doc := range docs {
			js, err := yaml.YAMLToJSONStrict(doc.text)
			if err != nil {
				return nil, nil, yamlError(err, doc.line)
			}
			v, err := decodeJSON(js)
			if err != nil {
				return nil, nil, err
			}
			if v == nil {
				continue // an empty document, or only comments
			}
			prefix := ""
			if len(docs) > 1 {
				prefix = "document " + strconv.Itoa(doc.n) + ", "
			}
			if isResource(v) {
				configs = append(configs, resourceConfigs(v, prefix)...)
				continue
			}
			// The plugin configuration itself, in YAML.
			configs = append(configs, pluginConfig{where: strings.TrimSuffix(prefix, ", "), json: js})
		}
	}
	if len(configs) == 0 {
		return nil, nil, errors.New("no plugin configuration found: want the JSON configuration (or the same in YAML), " +
			"or a WasmPlugin, TrafficExtension, EnvoyExtensionPolicy or Envoy bootstrap that configures the CORS plugin")
	}
	// When some configurations name the CORS plugin, the others belong to
	// other plugins; when none does, every one is checked.
	var cors []pluginConfig
	for _, c := range configs {
		if mentionsCORS(c.names) {
			cors = append(cors, c)
		} else {
			skipped = append(skipped, c.where)
		}
	}
	if len(cors) == 0 {
		return configs, nil, nil
	}
	return cors, skipped, nil
}

func mentionsCORS(names []string) bool {
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), "cors") {
			return true
		}
	}
	return false
}

// decodeJSON decodes a JSON value, keeping numbers as written.
func decodeJSON(js []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// isResource reports whether a decoded document is a deployment resource
// (a Kubernetes object or an Envoy bootstrap) rather than a plugin
// configuration.
func isResource(v any) bool {
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, api := obj["apiVersion"].(string)
	_, kind := obj["kind"].(string)
	_, static := obj["static_resources"]
	_, dynamic := obj["dynamic_resources"]
	return api && kind || static || dynamic
}

// resourceConfigs returns the plugin configurations a resource holds.
func resourceConfigs(v any, prefix string) []pluginConfig {
	obj := v.(map[string]any)
	kind, _ := obj["kind"].(string)
	api, _ := obj["apiVersion"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name := str(meta, "name")
	if ns := str(meta, "namespace"); ns != "" {
		name = ns + "/" + name
	}
	id := prefix + kind + " " + name
	spec, _ := obj["spec"].(map[string]any)
	group, _, _ := strings.Cut(api, "/")
	switch {
	case kind == "List":
		var out []pluginConfig
		items, _ := obj["items"].([]any)
		for i, item := range items {
			if isResource(item) {
				out = append(out, resourceConfigs(item, prefix+"items["+strconv.Itoa(i)+"], ")...)
			}
		}
		return out
	case group == "extensions.istio.io" && kind == "WasmPlugin":
		return []pluginConfig{{
			where: id + ", spec.pluginConfig", json: marshalConfig(spec["pluginConfig"]),
			names: []string{str(meta, "name"), str(spec, "pluginName"), str(spec, "url")},
		}}
	case group == "extensions.istio.io" && kind == "TrafficExtension":
		// istio.io/api extensions/v1alpha1: spec.wasm is a WasmConfig,
		// whose pluginConfig is the plugin's configuration.
		wasm, ok := spec["wasm"].(map[string]any)
		if !ok {
			return nil // a Lua extension
		}
		return []pluginConfig{{
			where: id + ", spec.wasm.pluginConfig", json: marshalConfig(wasm["pluginConfig"]),
			names: []string{str(meta, "name"), str(wasm, "pluginName"), str(wasm, "url")},
		}}
	case group == "gateway.envoyproxy.io" && kind == "EnvoyExtensionPolicy":
		var out []pluginConfig
		wasms, _ := spec["wasm"].([]any)
		for i, w := range wasms {
			w, _ := w.(map[string]any)
			code, _ := w["code"].(map[string]any)
			image, _ := code["image"].(map[string]any)
			http, _ := code["http"].(map[string]any)
			where := id + ", spec.wasm[" + strconv.Itoa(i) + "]"
			if n := str(w, "name"); n != "" {
				where += " (" + n + ")"
			}
			out = append(out, pluginConfig{
				where: where + ".config", json: marshalConfig(w["config"]),
				names: []string{str(w, "name"), str(w, "rootID"), str(image, "url"), str(http, "url")},
			})
		}
		return out
	}
	// An Envoy bootstrap, or any resource that embeds Envoy configuration
	// (an Istio EnvoyFilter): every envoy.filters.http.wasm filter in it.
	if kind == "" {
		id = prefix + "Envoy bootstrap"
	}
	var out []pluginConfig
	walkWasmFilters(obj, "", func(w map[string]any, listener string) {
		config, _ := w["config"].(map[string]any)
		vm, _ := config["vm_config"].(map[string]any)
		code, _ := vm["code"].(map[string]any)
		local, _ := code["local"].(map[string]any)
		remote, _ := code["remote"].(map[string]any)
		httpURI, _ := remote["http_uri"].(map[string]any)
		where := id + ", envoy.filters.http.wasm"
		if n := str(config, "name"); n != "" {
			where += " " + strconv.Quote(n)
		}
		if listener != "" {
			where += " (listener " + strconv.Quote(listener) + ")"
		}
		pc := pluginConfig{
			where: where,
			names: []string{str(config, "name"), str(config, "root_id"), str(vm, "vm_id"), str(local, "filename"), str(httpURI, "uri")},
		}
		// Envoy hands a StringValue's value to the plugin as it is.
		configuration, _ := config["configuration"].(map[string]any)
		switch t := str(configuration, "@type"); {
		case configuration == nil:
			pc.where += ", no configuration"
		case strings.HasSuffix(t, "/google.protobuf.StringValue"):
			pc.where += ", configuration value"
			pc.json, pc.embedded = []byte(str(configuration, "value")), true
		default:
			pc.where += ", configuration (" + t + ", not a google.protobuf.StringValue holding the JSON)"
			delete(configuration, "@type")
			pc.json = marshalConfig(configuration)
		}
		out = append(out, pc)
	})
	return out
}

// wasmFilterType is the typed_config type of envoy.filters.http.wasm.
const wasmFilterType = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"

// walkWasmFilters calls found for every envoy.filters.http.wasm
// typed_config in v, with the name of the listener it belongs to.
func walkWasmFilters(v any, listener string, found func(w map[string]any, listener string)) {
	switch v := v.(type) {
	case map[string]any:
		if v["@type"] == wasmFilterType {
			found(v, listener)
			return
		}
		if _, ok := v["filter_chains"]; ok {
			listener = str(v, "name")
		}
		// Document order is lost in decoding; sorted keys keep the
		// output stable.
		for _, k := range slices.Sorted(maps.Keys(v)) {
			walkWasmFilters(v[k], listener, found)
		}
	case []any:
		for _, e := range v {
			walkWasmFilters(e, listener, found)
		}
	}
}

// str returns obj[key] when it is a string.
func str(obj map[string]any, key string) string {
	s, _ := obj[key].(string)
	return s
}

// marshalConfig encodes a configuration found in a resource as the JSON the
// plugin receives; an absent one is empty, which the policy refuses.
func marshalConfig(v any) []byte {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// yamlDoc is one document of a YAML stream.
type yamlDoc struct {
	n, line int // its number (from 1) and the line it starts on
	text    []byte
}

// yamlDocuments splits a YAML stream at its "---" lines.
func yamlDocuments(data []byte) []yamlDoc {
	var docs []yamlDoc
	cur := yamlDoc{n: 1, line: 1}
	lines := bytes.SplitAfter(data, []byte("\n"))
	for i, l := range lines {
		t := bytes.TrimRight(l, " \t\r\n")
		if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) || bytes.HasPrefix(t, []byte("---\t")) {
			if len(bytes.TrimSpace(cur.text)) > 0 || len(docs) > 0 {
				docs = append(docs, cur)
			}
			cur = yamlDoc{n: len(docs) + 1, line: i + 2}
			continue
		}
		cur.text = append(cur.text, l...)
	}
	if len(bytes.TrimSpace(cur.text)) > 0 || len(docs) == 0 {
		docs = append(docs, cur)
	}
	// Renumber, dropping the documents that hold nothing.
	out := docs[:0]
	for _, d := range docs {
		if len(bytes.TrimSpace(d.text)) > 0 {
			d.n = len(out) + 1
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return []yamlDoc{{n: 1, line: 1}}
	}
	return out
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlError rewords a YAML syntax error with line numbers in the file,
// for a document that starts on line start.
func yamlError(err error, start int) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(m, "line "))
		return "line " + strconv.Itoa(n+start-1)
	})
	return errors.New("not valid YAML: " + msg)
}

// jsonSyntaxError locates the first syntax error in data, as encoding/json
// finds it: its line and column (from 1, in characters) and what is wrong.
// ok is false when encoding/json finds no syntax error.
func jsonSyntaxError(data []byte) (line, col int, msg string, ok bool) {
	var v any
	var se *json.SyntaxError
	if err := json.Unmarshal(data, &v); !errors.As(err, &se) {
		return 0, 0, "", false
	}
	msg = se.Error()
	// Offset counts the bytes read, the offending one included.
	pos := int(se.Offset) - 1
	switch {
	case strings.Contains(msg, "unexpected end of JSON input"):
		pos = len(bytes.TrimRight(data, " \t\r\n"))
		msg += " (is a closing } or ] missing?)"
	case strings.Contains(msg, "after object key:value pair") || strings.Contains(msg, "after array element"):
		msg += " (is a comma missing before it?)"
	}
	pos = max(0, min(pos, len(data)))
	before := data[:pos]
	line = bytes.Count(before, []byte("\n")) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return line, col, msg, true
}

// syntaxLine says where a configuration's JSON syntax error is, for a line
// after the policy's own "cors: " error; "" when encoding/json finds none.
func syntaxLine(path string, c pluginConfig) string {
	line, col, msg, ok := jsonSyntaxError(c.json)
	if !ok {
		return ""
	}
	if path == "-" {
		path = "stdin"
	}
	if c.embedded || c.where != "" {
		return fmt.Sprintf("%s: %s: line %d, column %d of the JSON: %s", path, c.where, line, col, msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", path, line, col, msg)
}
