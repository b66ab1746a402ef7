package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImport(t *testing.T) {
	for _, example := range []string{"../../examples/istio/virtualservice.yaml", "../../examples/gateway-api/httproute.yaml"} {
		out := filepath.Join(t.TempDir(), "cors.json")
		code, stdout, stderr := runArgs("import", example, "-o", out)
		if code != 0 || stdout != "" || !strings.Contains(stderr, "read: ") || !strings.Contains(stderr, "ok: 3 rules") {
			t.Errorf("import %s: exit %d\n%s%s", example, code, stdout, stderr)
		}
		// What import writes, check accepts.
		if code, _, errOut := runArgs("check", "-q", out); code != 0 {
			t.Errorf("check of the import of %s: exit %d: %s", example, code, errOut)
		}
	}
	// "*" with credentials is refused as always, with the peer's path.
	vs := writeFile(t, "vs.yaml", `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v}
spec:
  hosts: [api.example.com]
  http:
  - corsPolicy: {allowOrigins: [{exact: "*"}], allowCredentials: true}
    route: [{destination: {host: a}}]
`)
	code, stdout, stderr := runArgs("import", vs)
	if code != 1 || stdout != "" || !strings.Contains(stderr, `cors: rules[0].allowed_origins[0]: "*": for security reasons, any origin cannot be combined with allow_credentials`) {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runArgs("import", writeFile(t, "x.yaml", "a: 1\n")); code != 1 || !strings.Contains(stderr, "nothing to import") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat("cors.json"); err == nil {
		t.Error("import wrote cors.json in the working directory")
	}
}
