// Package e2e runs the CORS scenarios on the real build/cors.wasm in the
// Envoy-emulating host (package host): what passes here loads and behaves in
// Envoy ≥ 1.33.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/corsfilter/corsfilter/host"
)

// The compiled plugins, found and compiled once by TestMain; nil when the
// .wasm has not been built.
var (
	corsPlugin *host.Plugin
	noopPlugin *host.Plugin
	corsWasm   []byte // build/cors.wasm, for plugins with other host options
	missing    string // why the plugins are missing
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	// CORS_BUILD_DIR points at another build directory (e.g. an unstripped
	// build for readable guest stack traces); default: <repo>/build.
	dir := filepath.Join(root, "build")
	if d := os.Getenv("CORS_BUILD_DIR"); d != "" {
		dir = d
	}
	load := func(name string) *host.Plugin {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			missing = fmt.Sprintf("build/%s is missing: run `make build`", name)
			return nil
		}
		p, err := host.Compile(ctx, b)
		if err != nil {
			missing = fmt.Sprintf("build/%s does not load in the Envoy-emulating host: %v", name, err)
			return nil
		}
		if name == "cors.wasm" {
			corsWasm = b
		}
		return p
	}
	corsPlugin, noopPlugin = load("cors.wasm"), load("noop.wasm")
	if missing != "" && os.Getenv("CORS_REQUIRE_WASM") == "1" {
		fmt.Fprintln(os.Stderr, "e2e: CORS_REQUIRE_WASM=1:", missing)
		return 1
	}
	defer func() {
		for _, p := range []*host.Plugin{corsPlugin, noopPlugin} {
			if p != nil {
				p.Close(ctx)
			}
		}
	}()
	return m.Run()
}

// repoRoot returns the directory holding go.mod, above the working
// directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
}

// requireWasm skips the test when the plugins are missing (TestMain has
// already failed the run under CORS_REQUIRE_WASM=1).
func requireWasm(tb testing.TB) {
	tb.Helper()
	if corsPlugin == nil || noopPlugin == nil {
		if os.Getenv("CORS_REQUIRE_WASM") == "1" {
			tb.Fatal(missing)
		}
		tb.Skip(missing)
	}
}

// newVM returns a fresh VM of plugin (a new instance per test, like a fresh
// Envoy worker), configured with config. It is closed at cleanup.
func newVM(tb testing.TB, plugin *host.Plugin, config string) *host.VM {
	tb.Helper()
	vm := newUnconfiguredVM(tb, plugin)
	if err := vm.Configure([]byte(config)); err != nil {
		tb.Fatalf("Configure(%s): %v; critical logs: %q", config, err, vm.Logs(host.LogCritical))
	}
	return vm
}

// compileCors compiles build/cors.wasm with host options other than the
// defaults of corsPlugin; it is closed at cleanup.
func compileCors(tb testing.TB, opts ...host.Option) *host.Plugin {
	tb.Helper()
	requireWasm(tb)
	ctx := context.Background()
	p, err := host.Compile(ctx, corsWasm, opts...)
	if err != nil {
		tb.Fatalf("Compile: %v", err)
	}
	tb.Cleanup(func() { p.Close(ctx) })
	return p
}

func newUnconfiguredVM(tb testing.TB, plugin *host.Plugin) *host.VM {
	tb.Helper()
	requireWasm(tb)
	ctx := context.Background()
	vm, err := plugin.NewVM(ctx)
	if err != nil {
		tb.Fatalf("NewVM: %v", err)
	}
	tb.Cleanup(func() { vm.Close(ctx) })
	return vm
}

// h builds a header list from name, value pairs.
func h(kv ...string) []host.Header {
	out := make([]host.Header, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, host.Header{Name: kv[i], Value: kv[i+1]})
	}
	return out
}
