package abi

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestVersionMatchesExports checks that Version, which the plugin's start
// log names, is the ABI version the layer exports and the SDK declares.
func TestVersionMatchesExports(t *testing.T) {
	want := "proxy_abi_version_" + strings.ReplaceAll(Version, ".", "_")
	re := regexp.MustCompile(`(?m)^//(?:go:wasm)?export (proxy_abi_version_\w+)$`)
	for _, path := range []string{"exports_wasip1.go", filepath.Join(sdkDir(t), "proxywasm", "internal", "abi_callback_version.go")} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			got = append(got, m[1])
		}
		if !slices.Equal(got, []string{want}) {
			t.Errorf("%s exports %v; want exactly %s (Version %q)", filepath.Base(path), got, want, Version)
		}
	}
}
