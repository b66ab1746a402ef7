package abi

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	gotypes "go/types"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	sdkModule   = "github.com/tetratelabs/proxy-wasm-go-sdk"
	sdkInternal = sdkModule + "/proxywasm/internal"
)

// signature is a function's parameter and result types, as source text,
// without parameter names.
type signature struct {
	params, results []string
}

func (s signature) String() string {
	return "(" + strings.Join(s.params, ", ") + ") (" + strings.Join(s.results, ", ") + ")"
}

func (s signature) equal(o signature) bool {
	return slices.Equal(s.params, o.params) && slices.Equal(s.results, o.results)
}

// mapTypes rewrites every type of s with f.
func (s signature) mapTypes(f func(string) string) signature {
	var m signature
	for _, p := range s.params {
		m.params = append(m.params, f(p))
	}
	for _, r := range s.results {
		m.results = append(m.results, f(r))
	}
	return m
}

// export is a function that carries a wasm name (//export or
// //go:wasmexport, //go:wasmimport).
type export struct {
	goName, wasmName string
	sig              signature
}

// sdkDecls is what the drift guard reads from the SDK source.
type sdkDecls struct {
	callbacks  []export             // abi_callback_*.go, //export
	hostCalls  []export             // abi_hostcalls.go (tinygo), //export
	hostIface  map[string]signature // internal.ProxyWasmHost
	underlying map[string]string    // "Status" and "types.Action" -> "uint32"
}

// layerDecls is what the drift guard reads from this package's wasip1 files.
type layerDecls struct {
	exports     map[string]signature // //go:wasmexport name
	linknames   map[string]signature // linkname target's name in internal
	imports     map[string]signature // //go:wasmimport env name
	hostIface   map[string]signature // proxyWasmHost
	hostMethods map[string]signature // methods of *host
	kept        map[string]bool      // (*host).M expressions in keepMethods
}

func TestSignaturesMatchSDK(t *testing.T) {
	sdk := readSDK(t, sdkDir(t))
	layer := readLayer(t, ".")
	if len(sdk.callbacks) != 22 || len(sdk.hostCalls) != 29 || len(sdk.hostIface) != 29 {
		t.Errorf("sdk: read %d callbacks, %d host calls, %d ProxyWasmHost methods; want 22, 29, 29",
			len(sdk.callbacks), len(sdk.hostCalls), len(sdk.hostIface))
	}
	for _, p := range compareABI(sdk, layer) {
		t.Error(p)
	}
}

// TestDriftIsDetected proves the guard fails when either side changes.
func TestDriftIsDetected(t *testing.T) {
	dir := sdkDir(t)
	tests := []struct {
		desc   string
		mutate func(*sdkDecls, *layerDecls)
	}{
		{"sdk callback parameter type changes", func(s *sdkDecls, _ *layerDecls) {
			callback(s, "proxy_on_request_headers").sig.params[1] = "int64"
		}},
		{"sdk callback result changes", func(s *sdkDecls, _ *layerDecls) {
			callback(s, "proxy_on_response_headers").sig.results = []string{"types.OnVMStartStatus"}
		}},
		{"sdk allocator changes", func(s *sdkDecls, _ *layerDecls) {
			callback(s, "proxy_on_memory_allocate").sig.params[0] = "uint64"
		}},
		{"sdk gains a callback", func(s *sdkDecls, _ *layerDecls) {
			s.callbacks = append(s.callbacks, export{"proxyOnFoo", "proxy_on_foo", signature{params: []string{"uint32"}}})
		}},
		{"sdk host interface gains a method", func(s *sdkDecls, _ *layerDecls) {
			s.hostIface["ProxyFoo"] = signature{results: []string{"Status"}}
		}},
		{"sdk host call gains a parameter", func(s *sdkDecls, _ *layerDecls) {
			s.hostCalls[0].sig.params = append(s.hostCalls[0].sig.params, "int")
		}},
		{"layer drops an export", func(_ *sdkDecls, l *layerDecls) { delete(l.exports, "proxy_on_done") }},
		{"layer drops a linkname", func(_ *sdkDecls, l *layerDecls) { delete(l.linknames, "proxyOnLog") }},
		{"layer import takes int", func(_ *sdkDecls, l *layerDecls) {
			l.imports["proxy_log"] = signature{params: []string{"uint32", "*byte", "int"}, results: []string{"uint32"}}
		}},
		{"layer host method differs", func(_ *sdkDecls, l *layerDecls) {
			l.hostMethods["ProxyDone"] = signature{results: []string{"int32"}}
		}},
		{"layer interface misses a method", func(_ *sdkDecls, l *layerDecls) { delete(l.hostIface, "ProxyGetMetric") }},
		{"layer forgets to keep a method", func(_ *sdkDecls, l *layerDecls) { delete(l.kept, "ProxyLog") }},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			sdk, layer := readSDK(t, dir), readLayer(t, ".")
			tc.mutate(&sdk, &layer)
			if p := compareABI(sdk, layer); len(p) == 0 {
				t.Error("drift not detected")
			}
		})
	}
}

// callback returns the SDK callback exported as name.
func callback(s *sdkDecls, name string) *export {
	for i := range s.callbacks {
		if s.callbacks[i].wasmName == name {
			return &s.callbacks[i]
		}
	}
	panic("no sdk callback " + name)
}

// compareABI lists every difference between the SDK and the layer.
func compareABI(sdk sdkDecls, layer layerDecls) []string {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	resolve := func(t string) string {
		if u, ok := sdk.underlying[t]; ok {
			return u
		}
		return t
	}
	// Callbacks: a wasm export per SDK //export, and a linkname with the
	// SDK's exact signature (named types resolved) to the SDK function.
	exportType := func(t string) string {
		switch t = resolve(t); t {
		case "int":
			return "int32"
		case "uint", "bool":
			return "uint32"
		}
		return t
	}
	seen := map[string]bool{}
	for _, c := range sdk.callbacks {
		seen[c.wasmName] = true
		got, ok := layer.exports[c.wasmName]
		want := c.sig.mapTypes(exportType)
		switch {
		case !ok:
			add("export %s: missing in the layer", c.wasmName)
		case !got.equal(want):
			add("export %s: layer has %v, want %v (from sdk %s%v)", c.wasmName, got, want, c.goName, c.sig)
		}
		if c.wasmName == "proxy_on_memory_allocate" {
			continue // implemented by the layer, keeping buffers reachable
		}
		got, ok = layer.linknames[c.goName]
		want = c.sig.mapTypes(resolve)
		switch {
		case !ok:
			add("linkname to internal.%s: missing in the layer", c.goName)
		case !got.equal(want):
			add("linkname to internal.%s: layer declares %v, sdk has %v", c.goName, got, want)
		}
	}
	for name := range layer.exports {
		if !seen[name] {
			add("export %s: not a callback of the sdk", name)
		}
	}
	// Host interface and the host type's methods.
	for _, side := range []struct {
		what string
		m    map[string]signature
	}{{"proxyWasmHost", layer.hostIface}, {"host", layer.hostMethods}} {
		for name, sig := range sdk.hostIface {
			got, ok := side.m[name]
			want := sig.mapTypes(resolve)
			switch {
			case !ok:
				add("%s.%s: missing in the layer", side.what, name)
			case !got.equal(want):
				add("%s.%s: layer has %v, sdk ProxyWasmHost has %v", side.what, name, got, want)
			}
		}
		for name := range side.m {
			if _, ok := sdk.hostIface[name]; !ok {
				add("%s.%s: not a method of the sdk's ProxyWasmHost", side.what, name)
			}
		}
	}
	// Trap 1: every method must be referenced as (*host).M from keepMethods,
	// or the linker drops it from the interface table.
	for name := range sdk.hostIface {
		if !layer.kept[name] {
			add("keepMethods: (*host).%s not referenced; the linker would drop it", name)
		}
	}
	// Host calls: a wasm import per SDK //export in abi_hostcalls.go, with
	// sizes as uint32 and 64-bit out-parameters as 32-bit slots.
	importType := func(t string) string {
		switch t = resolve(t); t {
		case "int":
			return "uint32"
		case "**byte", "*int":
			return "*uint32"
		}
		return t
	}
	seen = map[string]bool{}
	for _, h := range sdk.hostCalls {
		seen[h.wasmName] = true
		got, ok := layer.imports[h.wasmName]
		want := h.sig.mapTypes(importType)
		switch {
		case !ok:
			add("import env.%s: missing in the layer", h.wasmName)
		case !got.equal(want):
			add("import env.%s: layer has %v, want %v (from sdk %s%v)", h.wasmName, got, want, h.goName, h.sig)
		}
		if _, ok := sdk.hostIface[h.goName]; !ok {
			add("sdk host call %s is not a ProxyWasmHost method", h.goName)
		}
	}
	for name := range layer.imports {
		if !seen[name] {
			add("import env.%s: not a host call of the sdk", name)
		}
	}
	if _, ok := layer.linknames["RegisterMockWasmHost"]; !ok {
		add("linkname to internal.RegisterMockWasmHost: missing in the layer")
	}
	slices.Sort(problems)
	return problems
}

// sdkDir finds the SDK's source in the module cache.
func sdkDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", sdkModule).Output()
	if err != nil {
		t.Fatalf("go list -m -json %s: %v", sdkModule, err)
	}
	var m struct{ Path, Version, Dir string }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("go list -m -json %s: %v", sdkModule, err)
	}
	if m.Dir == "" {
		cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			t.Fatalf("go env GOMODCACHE: %v", err)
		}
		m.Dir = filepath.Join(strings.TrimSpace(string(cache)), m.Path+"@"+m.Version)
	}
	if _, err := os.Stat(filepath.Join(m.Dir, "proxywasm", "internal")); err != nil {
		t.Fatalf("sdk source %s@%s not in the module cache (run go mod download): %v", m.Path, m.Version, err)
	}
	return m.Dir
}

func readSDK(t *testing.T, dir string) sdkDecls {
	t.Helper()
	sdk := sdkDecls{hostIface: map[string]signature{}, underlying: map[string]string{}}
	for _, pkg := range []struct{ dir, qual string }{
		{filepath.Join(dir, "proxywasm", "internal"), ""},
		{filepath.Join(dir, "proxywasm", "types"), "types."},
	} {
		files, err := filepath.Glob(filepath.Join(pkg.dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("sdk: no go files in %s: %v", pkg.dir, err)
		}
		for _, path := range files {
			base := filepath.Base(path)
			if strings.HasSuffix(base, "_test.go") {
				continue
			}
			f := parseFile(t, path)
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.GenDecl:
					for _, s := range d.Specs {
						ts, ok := s.(*ast.TypeSpec)
						if !ok {
							continue
						}
						if id, ok := ts.Type.(*ast.Ident); ok {
							sdk.underlying[pkg.qual+ts.Name.Name] = id.Name
						}
						if it, ok := ts.Type.(*ast.InterfaceType); ok && pkg.qual == "" && ts.Name.Name == "ProxyWasmHost" {
							sdk.hostIface = interfaceMethods(it)
						}
					}
				case *ast.FuncDecl:
					name, ok := directive(d.Doc, "//export ")
					if !ok || pkg.qual != "" {
						continue
					}
					e := export{d.Name.Name, name, funcSig(d.Type)}
					switch {
					case strings.HasPrefix(base, "abi_callback_"):
						sdk.callbacks = append(sdk.callbacks, e)
					case base == "abi_hostcalls.go":
						sdk.hostCalls = append(sdk.hostCalls, e)
					}
				}
			}
		}
	}
	return sdk
}

func readLayer(t *testing.T, dir string) layerDecls {
	t.Helper()
	layer := layerDecls{
		exports: map[string]signature{}, linknames: map[string]signature{},
		imports: map[string]signature{}, hostIface: map[string]signature{},
		hostMethods: map[string]signature{}, kept: map[string]bool{},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*_wasip1.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("layer: no wasip1 files in %s: %v", dir, err)
	}
	for _, path := range files {
		f := parseFile(t, path)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.Name == "proxyWasmHost" {
						if it, ok := ts.Type.(*ast.InterfaceType); ok {
							layer.hostIface = interfaceMethods(it)
						}
					}
				}
			case *ast.FuncDecl:
				sig := funcSig(d.Type)
				if d.Name.Name == "keepMethods" && d.Body != nil {
					ast.Inspect(d.Body, func(n ast.Node) bool {
						if sel, ok := n.(*ast.SelectorExpr); ok && gotypes.ExprString(sel.X) == "(*host)" {
							layer.kept[sel.Sel.Name] = true
						}
						return true
					})
				}
				if d.Recv != nil {
					if len(d.Recv.List) == 1 && gotypes.ExprString(d.Recv.List[0].Type) == "*host" {
						layer.hostMethods[d.Name.Name] = sig
					}
					continue
				}
				if name, ok := directive(d.Doc, "//go:wasmexport "); ok {
					layer.exports[name] = sig
				}
				if v, ok := directive(d.Doc, "//go:wasmimport "); ok {
					if module, name, _ := strings.Cut(v, " "); module == "env" {
						layer.imports[name] = sig
					} else {
						t.Errorf("layer: %s imports from module %q, want env", d.Name.Name, module)
					}
				}
				if v, ok := directive(d.Doc, "//go:linkname "); ok {
					local, target, _ := strings.Cut(v, " ")
					name, found := strings.CutPrefix(target, sdkInternal+".")
					if local != d.Name.Name || !found {
						t.Errorf("layer: linkname %q does not name %s into %s", v, d.Name.Name, sdkInternal)
						continue
					}
					layer.linknames[name] = sig
				}
			}
		}
	}
	return layer
}

func parseFile(t *testing.T, path string) *ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return f
}

// directive returns the rest of the comment line that starts with prefix.
func directive(doc *ast.CommentGroup, prefix string) (string, bool) {
	if doc == nil {
		return "", false
	}
	for _, c := range doc.List {
		if rest, ok := strings.CutPrefix(c.Text, prefix); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

func funcSig(ft *ast.FuncType) signature {
	var s signature
	s.params = fieldTypes(ft.Params)
	s.results = fieldTypes(ft.Results)
	return s
}

// fieldTypes lists one type per parameter: (a, b uint32) is two uint32.
func fieldTypes(fl *ast.FieldList) []string {
	var types []string
	if fl == nil {
		return nil
	}
	for _, f := range fl.List {
		n := max(len(f.Names), 1)
		for range n {
			types = append(types, gotypes.ExprString(f.Type))
		}
	}
	return types
}

func interfaceMethods(it *ast.InterfaceType) map[string]signature {
	m := map[string]signature{}
	for _, f := range it.Methods.List {
		if ft, ok := f.Type.(*ast.FuncType); ok && len(f.Names) == 1 {
			m[f.Names[0].Name] = funcSig(ft)
		}
	}
	return m
}
