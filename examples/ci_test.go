package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// workflow is the part of a GitHub Actions workflow the CI recipe uses.
type workflow struct {
	On   map[string]any `json:"on"`
	Env  map[string]string
	Jobs map[string]struct {
		RunsOn string `json:"runs-on"`
		Steps  []struct {
			Name string            `json:"name"`
			Uses string            `json:"uses"`
			Run  string            `json:"run"`
			Env  map[string]string `json:"env"`
			With map[string]any    `json:"with"`
			If   string            `json:"if"`
		}
	}
}

// TestCIWorkflow: examples/ci/cors-policy.yml parses as a workflow, runs
// check, test and diff on pull requests, handles diff's exit codes, and its
// scripts are valid bash; with build/corsctl at hand, its check, test and
// diff steps run as written on the demo policy.
func TestCIWorkflow(t *testing.T) {
	data, err := os.ReadFile("ci/cors-policy.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	if wf.On == nil {
		// YAML 1.1, which sigs.k8s.io/yaml reads, takes the key on for
		// true; GitHub reads it as "on".
		var top map[string]any
		if err := yaml.Unmarshal(data, &top); err == nil {
			wf.On, _ = top["true"].(map[string]any)
		}
	}
	if _, ok := wf.On["pull_request"]; !ok {
		t.Error("the workflow does not run on pull requests")
	}
	job, ok := wf.Jobs["policy"]
	if !ok || job.RunsOn == "" {
		t.Fatalf("no runnable job: %+v", wf.Jobs)
	}
	scripts := map[string]string{}
	for _, s := range job.Steps {
		if s.Run == "" {
			continue
		}
		scripts[s.Name] = s.Run
		if out, err := exec.Command("bash", "-n", "-c", s.Run).CombinedOutput(); err != nil {
			t.Errorf("step %q is not valid bash: %v\n%s", s.Name, err, out)
		}
	}
	for name, want := range map[string][]string{
		"corsctl check":                        {`corsctl check "$POLICY"`, "-format json"},
		"corsctl test":                         {`corsctl test "$POLICY" "$CASES" -junit`},
		"corsctl diff against the base branch": {`corsctl diff base-policy.json "$POLICY"`, "-traffic", "3)", "4)", "exit 1"},
	} {
		for _, w := range want {
			if !strings.Contains(scripts[name], w) {
				t.Errorf("step %q lacks %q:\n%s", name, w, scripts[name])
			}
		}
	}

	bin, _ := filepath.Abs("../build")
	if _, err := os.Stat(filepath.Join(bin, "corsctl")); err != nil {
		if os.Getenv("CORS_REQUIRE_WASM") == "1" {
			t.Fatal("build/corsctl is missing (CORS_REQUIRE_WASM=1): run make build")
		}
		t.Skip("build/corsctl is missing: run make build")
	}
	// Run the steps in a work tree laid out as the README says, with the
	// demo policy as the pull request's and a narrower one on the base
	// branch.
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	demo, _ := os.ReadFile("demo/cors.json")
	cases, _ := os.ReadFile("demo/cases.yaml")
	git("init", "-q", "-b", "main")
	write("cors/cors.json", strings.Replace(string(demo), `"allowed_methods": ["PUT", "DELETE"]`, `"allowed_methods": ["PUT"]`, 1))
	git("add", ".")
	git("commit", "-qm", "base")
	git("update-ref", "refs/remotes/origin/main", "HEAD")
	write("cors/cors.json", string(demo))
	write("cors/cases.yaml", string(cases))
	run := func(step string) (string, error) {
		cmd := exec.Command("bash", "-e", "-c", scripts[step])
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "BASE=main", "PR=1",
			"POLICY="+wf.Env["POLICY"], "CASES="+wf.Env["CASES"], "TRAFFIC="+wf.Env["TRAFFIC"])
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, step := range []string{"corsctl check", "corsctl test"} {
		if out, err := run(step); err != nil {
			t.Errorf("step %q: %v\n%s", step, err, out)
		}
	}
	// The pull request adds DELETE: a widening, so the step asks gh for
	// the label; gh is not here, which is how we see it was reached.
	out, _ := run("corsctl diff against the base branch")
	if !strings.Contains(out, "allowed_methods: + DELETE") || !strings.Contains(out, "security review requested") {
		t.Errorf("the diff step did not route a widening to review:\n%s", out)
	}
}
