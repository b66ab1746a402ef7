package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/corsfilter/corsfilter/host"
	"github.com/corsfilter/corsfilter/policy"
)

func init() {
	commands["replay"] = command{
		summary: "run JSON-lines requests through the real cors.wasm in the Envoy-emulating host",
		run:     runReplay,
	}
}

// wasmUsage describes the -wasm flag of replay and serve.
const wasmUsage = "the plugin `file` (default: cors.wasm beside the corsctl binary, else build/cors.wasm)"

// findWasm returns the plugin to run when -wasm is not given: cors.wasm
// beside the corsctl binary exe (where `make build` puts both, so that
// build/corsctl works from any directory), else build/cors.wasm in the
// current directory. When neither exists it returns "" and the places it
// looked.
func findWasm(exe string) (path string, looked []string) {
	var dirs []string
	if exe != "" {
		dirs = append(dirs, filepath.Dir(exe))
		// Through a symbolic link (an install in /usr/local/bin), the
		// binary's own directory.
		if real, err := filepath.EvalSymlinks(exe); err == nil && filepath.Dir(real) != dirs[0] {
			dirs = append(dirs, filepath.Dir(real))
		}
	}
	for _, dir := range dirs {
		looked = append(looked, filepath.Join(dir, "cors.wasm"))
	}
	looked = append(looked, filepath.Join("build", "cors.wasm"))
	for _, p := range looked {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", looked
}

// replayInput is one input line. Only these fields are accepted, so a typo
// is an error rather than a silently different request.
type replayInput struct {
	ID         json.RawMessage   `json:"id"`
	Method     string            `json:"method"`
	Scheme     string            `json:"scheme"`
	Authority  string            `json:"authority"`
	Path       string            `json:"path"`
	Headers    [][]string        `json:"headers"`
	Properties map[string]string `json:"properties"` // e.g. {"xds.route_name": "api"}
	Upstream   *struct {
		Status  int        `json:"status"`
		Headers [][]string `json:"headers"`
	} `json:"upstream"`
}

// replayOutput is one output line: what the client receives, then the rule
// and the verdict, as explain -json prints them. Its field names are a
// contract.
type replayOutput struct {
	ID        json.RawMessage `json:"id"`
	Forwarded bool            `json:"forwarded"`
	Status    int             `json:"status"`
	Headers   [][2]string     `json:"headers"`
	Rule      string          `json:"rule"`
	Verdict   string          `json:"verdict"`
	// Divergence is how the rule's candidate would have decided otherwise:
	// "candidate_would_deny" or "candidate_would_allow".
	Divergence string `json:"divergence,omitempty"`
}

func runReplay(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("replay", flag.ContinueOnError)
	fset.SetOutput(stderr)
	configFlag := fset.String("config", "", "the plugin configuration `file`, if not given as an argument")
	wasmPath := fset.String("wasm", "", wasmUsage)
	var sets setFlags
	fset.Var(&sets, "origin-set", setUsage)
	fset.Usage = func() {
		w := fset.Output()
		fmt.Fprintln(w, "usage: corsctl replay CONFIG [-wasm FILE] < requests.jsonl")
		fmt.Fprintln(w, "Run each request through the real cors.wasm in the Envoy-emulating host.")
		fmt.Fprintln(w, `input lines:  {"id","method","authority","path","headers":[[name,value],...],"upstream":{"status","headers"}}`)
		fmt.Fprintln(w, `output lines: {"id","forwarded","status","headers":[[name,value],...],"rule","verdict"}`)
		fmt.Fprintln(w, `  "rule" and "verdict" (ALLOWED, DENIED, UNTOUCHED) come from the counter the plugin incremented`)
		fset.PrintDefaults()
	}
	pos, code, ok := parseFlags(fset, args, stdout, stderr)
	if !ok {
		return code
	}
	configPath, ok := configArg(fset, pos, *configFlag, stderr)
	if !ok {
		return 2
	}
	ctx := context.Background()
	opts := []host.Option{host.WithMaxLogs(10_000)}
	if len(sets) > 0 {
		c, ok := loadConfig(configPath, nil, stderr)
		if !ok {
			return 1
		}
		more, err := registryOptions(c.json, sets)
		if err != nil {
			fmt.Fprintf(stderr, "corsctl: %v\n", err)
			return 1
		}
		opts = append(opts, more...)
	}
	plugin, config, code := loadPlugin(ctx, *wasmPath, configPath, stderr, opts...)
	if plugin == nil {
		return code
	}
	defer plugin.Close(ctx)
	vm, code := startVM(ctx, plugin, config, stderr)
	if vm == nil {
		return code
	}
	if len(sets) > 0 {
		// The first tick fetches every set from its registry.
		if err := plugin.Advance(2 * time.Second); err != nil {
			fmt.Fprintf(stderr, "corsctl: replay: fetching the origin sets: %v\n", err)
			return 1
		}
		for _, l := range vm.Logs(host.LogWarn) {
			fmt.Fprintln(stderr, l)
		}
	}
	div := divergences{}
	requests := 0
	defer func() { div.report(stderr, requests) }()
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		req, resp, id, err := parseReplayLine(line)
		if err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "corsctl: replay: line %d: %v\n", n, err)
			return 1
		}
		before := vm.Metrics()
		res, err := vm.RoundTrip(req, func(host.Request) host.Response { return resp })
		if err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "corsctl: replay: line %d: the plugin failed: %v\n", n, err)
			return 1
		}
		o := replayOutput{ID: id, Forwarded: res.Forwarded, Status: res.Status, Headers: make([][2]string, 0, len(res.Headers)), Verdict: "UNKNOWN"}
		after := vm.Metrics()
		if rule, outcome, ok := countedOutcome(before, after); ok {
			o.Rule, o.Verdict = rule, verdict(outcome)
		}
		o.Divergence = div.counted(before, after)
		requests++
		for _, kv := range res.Headers {
			o.Headers = append(o.Headers, [2]string{kv.Name, kv.Value})
		}
		if err := enc.Encode(o); err != nil {
			fmt.Fprintf(stderr, "corsctl: replay: %v\n", err)
			return 1
		}
	}
	if err := sc.Err(); err != nil {
		out.Flush()
		fmt.Fprintf(stderr, "corsctl: replay: reading input: %v\n", err)
		return 1
	}
	return 0
}

// countedOutcome returns the rule and the outcome of the one stream that ran
// between two readings of the plugin's counters: the counter
// cors.<rule>.<outcome> or cors.unmatched (rule "") that it incremented
// (docs/spec.md §4). ok is false when no outcome was counted, as after an
// internal fault.
func countedOutcome(before, after map[string]uint64) (rule string, o policy.Outcome, ok bool) {
	for name, n := range after {
		if n <= before[name] {
			continue
		}
		if name == "cors.unmatched" {
			return "", policy.OutcomeUnmatched, true
		}
		rest, found := strings.CutPrefix(name, "cors.")
		if !found {
			continue
		}
		// Rule names hold no dot: the outcome follows the first one.
		rule, outcome, found := strings.Cut(rest, ".")
		if !found {
			continue
		}
		for _, o := range policy.Outcomes() {
			if o.String() == outcome {
				return rule, o, true
			}
		}
	}
	return "", 0, false
}

// parseReplayLine decodes one input line strictly.
func parseReplayLine(line []byte) (host.Request, host.Response, json.RawMessage, error) {
	var in replayInput
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return host.Request{}, host.Response{}, nil, fmt.Errorf("invalid JSON request: %v", err)
	}
	if dec.More() {
		return host.Request{}, host.Response{}, nil, errors.New("invalid JSON request: more than one value on the line")
	}
	if in.ID == nil {
		in.ID = json.RawMessage("null")
	}
	req := host.Request{Method: in.Method, Scheme: in.Scheme, Authority: in.Authority, Path: in.Path, Properties: in.Properties}
	if req.Method == "" {
		req.Method = "GET"
	}
	if req.Path == "" {
		req.Path = "/"
	}
	var err error
	if req.Headers, err = pairs("headers", in.Headers); err != nil {
		return host.Request{}, host.Response{}, nil, err
	}
	req.Authority = hostAuthority(req.Authority, req.Headers)
	resp := host.Response{Status: 200}
	if in.Upstream != nil {
		if in.Upstream.Status != 0 {
			resp.Status = in.Upstream.Status
		}
		if resp.Status < 100 || resp.Status > 999 {
			return host.Request{}, host.Response{}, nil, fmt.Errorf("upstream.status %d is not an HTTP status", resp.Status)
		}
		if resp.Headers, err = pairs("upstream.headers", in.Upstream.Headers); err != nil {
			return host.Request{}, host.Response{}, nil, err
		}
	}
	return req, resp, in.ID, nil
}

// pairs converts [[name, value], ...] into headers.
func pairs(field string, in [][]string) ([]host.Header, error) {
	out := make([]host.Header, 0, len(in))
	for i, kv := range in {
		if len(kv) != 2 || kv[0] == "" {
			return nil, fmt.Errorf("%s[%d]: want [name, value] with a non-empty name", field, i)
		}
		out = append(out, host.Header{Name: kv[0], Value: kv[1]})
	}
	return out, nil
}

// loadPlugin reads the configuration and compiles the .wasm. On failure it
// prints one line and returns a nil plugin and the exit code.
func loadPlugin(ctx context.Context, wasmPath, configPath string, stderr io.Writer, opts ...host.Option) (*host.Plugin, loadedConfig, int) {
	c, ok := loadConfig(configPath, nil, stderr)
	if !ok {
		return nil, loadedConfig{}, 1
	}
	if wasmPath == "" {
		exe, _ := os.Executable()
		var looked []string
		if wasmPath, looked = findWasm(exe); wasmPath == "" {
			fmt.Fprintf(stderr, "corsctl: no cors.wasm at %s: run `make build` (or pass -wasm)\n", strings.Join(looked, " nor "))
			return nil, loadedConfig{}, 1
		}
	}
	wasm, err := os.ReadFile(wasmPath)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "corsctl: %s not found: run `make build` (or pass -wasm)\n", wasmPath)
		return nil, loadedConfig{}, 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "corsctl: %v\n", err)
		return nil, loadedConfig{}, 1
	}
	plugin, err := host.Compile(ctx, wasm, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl: %s does not load as Envoy would: %v\n", wasmPath, err)
		return nil, loadedConfig{}, 1
	}
	return plugin, loadedConfig{path: configPath, pluginConfig: c}, 0
}

// loadedConfig is a plugin configuration and the file it came from.
type loadedConfig struct {
	path string
	pluginConfig
}

// startVM starts and configures one VM. A refused configuration prints the
// plugin's critical log lines (the `cors: ` errors), one per line, and
// where a JSON syntax error is.
func startVM(ctx context.Context, plugin *host.Plugin, config loadedConfig, stderr io.Writer) (*host.VM, int) {
	var critical []string
	vm, err := plugin.NewVM(ctx)
	if err == nil {
		err = vm.Configure(config.json)
		critical = vm.Logs(host.LogCritical)
	}
	switch {
	case errors.Is(err, host.ErrConfigRefused):
		for _, line := range critical {
			fmt.Fprintln(stderr, line)
		}
		if len(critical) == 0 {
			fmt.Fprintln(stderr, "corsctl: the plugin refused the configuration")
		}
		if l := syntaxLine(config.path, config.pluginConfig); l != "" {
			fmt.Fprintln(stderr, l)
		}
		return nil, 1
	case err != nil:
		fmt.Fprintf(stderr, "corsctl: %v\n", err)
		return nil, 1
	}
	return vm, 0
}

// authority is the request's :authority: the one given, else the Host
// header's value, as Envoy's codecs make it for HTTP/1.1. explain and
// replay share this one rule.
func authority(given string, headers []policy.Header) string {
	if given != "" {
		return given
	}
	for _, h := range headers {
		if strings.EqualFold(h.Name, "host") || h.Name == ":authority" {
			return h.Value
		}
	}
	return ""
}

// hostAuthority is authority over the host's header type.
func hostAuthority(given string, headers []host.Header) string {
	hs := make([]policy.Header, len(headers))
	for i, h := range headers {
		hs[i] = policy.Header{Name: h.Name, Value: h.Value}
	}
	return authority(given, hs)
}
