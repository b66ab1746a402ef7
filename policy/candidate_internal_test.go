package policy

import (
	"reflect"
	"testing"
)

// TestOverlay_takesEveryFieldOfTheCandidate sets every policy field of a
// candidate, whatever fields policies grow, and checks that overlay takes
// each of them over the rule's (mode excepted: a candidate has the rule's).
// A field overlay forgot would be validated in the candidate and then
// silently ignored.
func TestOverlay_takesEveryFieldOfTheCandidate(t *testing.T) {
	own, cand := &fields{}, &fields{path: "rules[0].candidate"}
	cv := reflect.ValueOf(cand).Elem()
	for i := range cv.NumField() {
		f := cv.Type().Field(i)
		if f.Name == "path" || f.Name == "_" {
			continue
		}
		if f.Type.Kind() != reflect.Pointer {
			t.Fatalf("fields.%s is a %v: teach this test to set it", f.Name, f.Type)
		}
		reflect.NewAt(f.Type, cv.Field(i).Addr().UnsafePointer()).Elem().Set(reflect.New(f.Type.Elem()))
	}
	m := reflect.ValueOf(overlay(own, cand)).Elem()
	for i := range m.NumField() {
		name := m.Type().Field(i).Name
		if name == "path" || name == "mode" || name == "_" {
			continue
		}
		if m.Field(i).IsNil() {
			t.Errorf("overlay ignores the candidate's %s", name)
		}
	}
}

// TestCandidate_refusesGrants: grants are set up per rule (a clock, a
// verification budget, counters, the parameter stripped from :path); a
// candidate that staged its own got none of them, so it may not set them.
func TestCandidate_refusesGrants(t *testing.T) {
	_, err := Parse([]byte(`{"rules":[{"name":"widget","allowed_origins":[],"allowed_methods":["PUT"],
		"candidate":{"grants":{"keys":[{"id":"k1","ed25519_public_key":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"}]}},"candidate_rollout_percent":100}]}`))
	var found bool
	for e := range Errors(err) {
		found = found || e.Path == "rules[0].candidate.grants"
	}
	if !found {
		t.Fatalf("Parse accepted grants in a candidate, or named another path: %v", err)
	}
}
