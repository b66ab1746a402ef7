package policy_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

func TestErrors(t *testing.T) {
	a := &policy.Error{Path: "a", Problem: policy.ProblemUnknownKey, Msg: "unknown key"}
	b := &policy.Error{Path: "b", Problem: policy.ProblemWrongType, Msg: "must be a boolean"}
	c := &policy.Error{Path: "c", Problem: policy.ProblemMissing, Msg: "required"}
	cases := []struct {
		desc string
		err  error
		want []*policy.Error
	}{
		{"nil", nil, nil},
		{"one error", a, []*policy.Error{a}},
		{"joined", errors.Join(a, b), []*policy.Error{a, b}},
		{"nested joins, depth first", errors.Join(errors.Join(a, b), c), []*policy.Error{a, b, c}},
		{"wrapped", fmt.Errorf("loading: %w", errors.Join(a, b)), []*policy.Error{a, b}},
		{"other errors skipped", errors.Join(errors.New("not a config error"), c), []*policy.Error{c}},
	}
	for _, tc := range cases {
		if got := slices.Collect(policy.Errors(tc.err)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: policy.Errors(%v) = %v; want %v", tc.desc, tc.err, got, tc.want)
		}
	}

	// The iterator stops when the loop does.
	n := 0
	for range policy.Errors(errors.Join(a, errors.Join(b, c))) {
		if n++; n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("policy.Errors went on after break: %d", n)
	}
}

func TestErrors_walksEveryParseError(t *testing.T) {
	_, err := policy.Parse([]byte(`{"allowed_origins":["https://A.example","null"],"allowed_methods":["TRACE"],"bogus":1}`))
	var got []string
	for e := range policy.Errors(err) {
		got = append(got, e.Error())
	}
	if want := strings.Split(err.Error(), "\n"); len(want) != 4 || !slices.Equal(got, want) {
		t.Errorf("policy.Errors yields:\n%s\nthe joined error reads:\n%s", strings.Join(got, "\n"), err)
	}
}
