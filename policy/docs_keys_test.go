package policy

import (
	"os"
	"strings"
	"testing"
)

// TestDocs_guideNamesEveryKey keeps the guide's configuration reference
// complete: every key the parser accepts, at every level, is documented
// there (as `key`), and every metric name the plugin defines from the
// policy's vocabulary is in the metrics reference.
func TestDocs_guideNamesEveryKey(t *testing.T) {
	conf, err := os.ReadFile("../docs/guide/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, list := range [][]string{policyKeys, matchKeys, sourceKeys, grantKeys, candidateKeys, metadataKeys, ruleMetadataKeys} {
		keys = append(keys, list...)
	}
	// The keys named in Parse, rules and grantKeys rather than in a list.
	keys = append(keys, "rules", "name", "match", keyCandidate, keyRollout, keySources, keyReportInterval, keyReportTop, "id", "ed25519_public_key")
	for _, k := range keys {
		if !strings.Contains(string(conf), "`"+k+"`") {
			t.Errorf("docs/guide/configuration.md does not document the key %q", k)
		}
	}

	ops, err := os.ReadFile("../docs/guide/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range Outcomes() {
		if o != OutcomeUnmatched {
			names = append(names, "cors_<rule>_"+o.String())
		}
	}
	for _, o := range GrantOutcomes() {
		names = append(names, "cors_<rule>_grant_"+o.String())
	}
	names = append(names, "cors_unmatched", "cors_internal_fault", "cors_<rule>_report_only_divergence",
		"cors_<rule>_upstream_cors_overridden", "cors_<rule>_"+CandidateWouldDeny.String(), "cors_<rule>_"+CandidateWouldAllow.String())
	for _, n := range names {
		if !strings.Contains(string(ops), "`"+n+"`") {
			t.Errorf("docs/guide/operations.md does not list the metric %q", n)
		}
	}
}
