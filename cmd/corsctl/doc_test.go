package main

import (
	"encoding/xml"
	"strings"
	"testing"
)

const docConfig = `{
  "version": "2026.07",
  "description": "APIs of the <shop>",
  "rules": [
    {"name": "partners", "description": "For partner dashboards.", "match": {"hosts": ["api.example.com"], "path_prefixes": ["/v1/"]},
     "allowed_origins": ["https://partner.example.net", "https://*.partner.example.org", "http://localhost:*"],
     "allowed_origin_regexes": ["^https://shop-[a-z]+\\.example\\.com$"],
     "allow_credentials": true, "allowed_methods": ["PUT"], "allowed_request_headers": ["X-Token"],
     "exposed_response_headers": ["X-Request-Id"], "max_age_seconds": 7200, "mode": "report_only"},
    {"name": "ops-secret", "internal": true, "match": {"path_prefixes": ["/ops/"]}, "allowed_origins": ["https://ops.internal.example.com"]},
    {"name": "public", "allowed_origins": ["*"], "allowed_request_headers": ["*"], "exposed_response_headers": ["*"]}
  ]}`

func TestDocMarkdown(t *testing.T) {
	code, out, errOut := runArgs("doc", writeConfig(t, docConfig))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Policy version `2026.07`.", "APIs of the <shop>",
		"## partners", "For partner dashboards.",
		"on `api.example.com`, for paths starting with `/v1/`",
		"`https://partner.example.net`", "any subdomain of partner.example.org (not partner.example.org itself), over https",
		"`http://localhost`, on any port", "matches the regular expression `^https://shop-[a-z]+\\.example\\.com$`",
		"GET, HEAD and POST, and `PUT`", "and `x-token`", "and `x-request-id`",
		`Yes: send cookies or HTTP authentication with ` + "`fetch(url, {credentials: \"include\"})`",
		"2 hours", "Not enforced yet",
		"corsctl explain ", "-origin https://partner.example.net -authority api.example.com -path /v1/ -method OPTIONS -header 'Access-Control-Request-Method: PUT'",
		"## public", "any website", "any header except Authorization", "every response header", "browsers ask again after 5 seconds",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// Readable without the configuration's syntax, and without the
	// internal rule.
	for _, unwanted := range []string{"ops-secret", "/ops/", "ops.internal", "allowed_origins", "allow_credentials", "max_age_seconds", "report_only", "exposed_response_headers"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("the page shows %q:\n%s", unwanted, out)
		}
	}
}

func TestDocHTML(t *testing.T) {
	code, out, errOut := runArgs("doc", "-format", "html", writeConfig(t, docConfig))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "<shop>") || !strings.Contains(out, "APIs of the &lt;shop&gt;") {
		t.Error("the description is not escaped")
	}
	for _, want := range []string{`<section id="rule-partners">`, "<code>https://partner.example.net</code>", "<code>PUT</code>", "<pre><code>corsctl explain"} {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(out, "ops-secret") {
		t.Error("the internal rule is shown")
	}
	// Well-formed enough for an XML parser once the doctype is gone.
	body := strings.TrimPrefix(out, "<!doctype html>\n")
	dec := xml.NewDecoder(strings.NewReader(body))
	dec.Strict, dec.AutoClose, dec.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Errorf("the page does not parse: %v", err)
			}
			break
		}
	}
	if code, _, _ := runArgs("doc", "-format", "pdf", writeConfig(t, docConfig)); code != 2 {
		t.Errorf("-format pdf: exit %d, want 2", code)
	}
}
