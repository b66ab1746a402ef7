package policy_test

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// Test_that_decide_does_not_allocate pins the whole filter path of every
// BenchmarkDecide row at zero allocations: the Request built header by
// header, the decision, and its reply or response edits written out.
func Test_that_decide_does_not_allocate(t *testing.T) {
	for _, bc := range benchConfigs() {
		p, err := policy.Parse([]byte(bc.cfg))
		if err != nil {
			t.Fatal(err)
		}
		for _, br := range bc.reqs {
			f, w := &filterRun{p: p}, newSink()
			if n := testing.AllocsPerRun(100, func() {
				w.reset()
				f.serve(w, br.method, br.headers)
			}); n != 0 {
				t.Errorf("cfg=%s/req=%s: %v allocations per request; want 0", bc.name, br.name, n)
			}
		}
	}
}

func Test_that_policy_depends_on_neither_the_sdk_nor_wazero(t *testing.T) {
	if runtime.GOOS == "wasip1" {
		t.Skip("runs the go command: the native run checks it")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, banned := range []string{"proxy-wasm-go-sdk", "wazero"} {
		if strings.Contains(string(out), banned) {
			t.Errorf("policy depends on %s:\n%s", banned, out)
		}
	}
}
