package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const metaConfig = `{"version": "2026.07", "description": "Storefront APIs", "allowed_origins": ["https://app.example.com"],
  "rules": [{"name": "api", "description": "The cart API.", "max_age_seconds": 9000}]}`

func TestCheckShowsMetadata(t *testing.T) {
	code, out, _ := runArgs("check", writeConfig(t, metaConfig))
	for _, want := range []string{"version: 2026.07", "description: Storefront APIs", "rule api: The cart API."} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, stdout lacks %q:\n%s", code, want, out)
		}
	}
	code, out, _ = runArgs("explain", writeConfig(t, metaConfig), "-origin", "https://app.example.com")
	for _, want := range []string{"rule:      api (rule 1 of 1)\n           The cart API.\n", "policy:    version 2026.07"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("explain: exit %d, stdout lacks %q:\n%s", code, want, out)
		}
	}
}

func TestCheckFormatJSON(t *testing.T) {
	code, out, errOut := runArgs("check", "-format", "json", writeConfig(t, metaConfig))
	var rep checkReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("exit %d, %v\n%s%s", code, err, out, errOut)
	}
	c := rep.Configs[0]
	if !rep.OK || !c.OK || c.Version != "2026.07" || c.Description != "Storefront APIs" || len(c.Rules) != 1 ||
		len(c.Warnings) != 1 || c.Warnings[0].Path != "rules[0].max_age_seconds" || len(c.Errors) != 0 || rep.PublicSuffixList == "" {
		t.Errorf("%+v", rep)
	}
	var pol map[string]any
	if err := json.Unmarshal(c.Policy, &pol); err != nil || pol["version"] != "2026.07" {
		t.Errorf("policy %s: %v", c.Policy, err)
	}

	code, out, _ = runArgs("check", "-format", "json", writeConfig(t, `{"allowed_origins": ["*"], "allow_credentials": true, "mode": "of"}`))
	rep = checkReport{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	c = rep.Configs[0]
	if rep.OK || c.OK || string(c.Policy) != "null" || len(c.Errors) != 2 || c.Errors[1].Problem != "credentials" || c.Errors[1].Path != "allowed_origins[0]" || c.Errors[0].Problem != "invalid_value" {
		t.Errorf("%+v", rep)
	}
	// A resource: the config inside an Istio WasmPlugin.
	code, out, _ = runArgs("check", "-format", "json", "../../examples/istio/wasmplugin.yaml")
	rep = checkReport{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !strings.Contains(rep.Configs[0].Where, "WasmPlugin") {
		t.Errorf("exit %d, %v\n%s", code, err, out)
	}
	if code, _, _ := runArgs("check", "-format", "xml", writeConfig(t, metaConfig)); code != 2 {
		t.Errorf("-format xml: exit %d, want 2", code)
	}
}
