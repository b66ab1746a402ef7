package policy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/policy"
)

// problem is one expected configuration error: where, and why.
type problem struct {
	path string
	kind policy.Problem
}

// invalidConfigs each break one validation rule of docs/spec.md §2. Every case
// fails if the rule it names is removed from Parse.
var invalidConfigs = []struct {
	desc  string
	input string
	want  []problem
}{
	// Syntax and schema.
	{desc: "not JSON", input: `{"allowed_origins": [`, want: []problem{{"", policy.ProblemInvalidJSON}}},
	{desc: "empty document", input: ``, want: []problem{{"", policy.ProblemMissing}}},
	{desc: "top level not an object", input: `["https://a.example"]`, want: []problem{{"(root)", policy.ProblemWrongType}}},
	{desc: "unknown key", input: `{"allowed_origins":["https://a.example"],"alowed_methods":["PUT"]}`, want: []problem{{"alowed_methods", policy.ProblemUnknownKey}}},
	{desc: "unknown key in a rule", input: `{"rules":[{"name":"a","allowed_origins":["https://a.example"],"credentials":true}]}`, want: []problem{{"rules[0].credentials", policy.ProblemUnknownKey}}},
	{desc: "unknown key in match", input: `{"rules":[{"name":"a","match":{"path":["/x"]},"allowed_origins":["https://a.example"]}]}`, want: []problem{{"rules[0].match.path", policy.ProblemUnknownKey}}},
	{desc: "duplicate key", input: `{"allowed_origins":["https://a.example"],"allowed_origins":["https://b.example"]}`, want: []problem{{"allowed_origins", policy.ProblemDuplicateKey}}},
	{desc: "string where a list is expected", input: `{"allowed_origins":"https://a.example"}`, want: []problem{{"allowed_origins", policy.ProblemWrongType}}},
	{desc: "number in a string list", input: `{"allowed_origins":["https://a.example",3]}`, want: []problem{{"allowed_origins[1]", policy.ProblemWrongType}}},
	{desc: "string where a boolean is expected", input: `{"allowed_origins":["https://a.example"],"allow_credentials":"true"}`, want: []problem{{"allow_credentials", policy.ProblemWrongType}}},
	{desc: "null where a boolean is expected", input: `{"allowed_origins":["https://a.example"],"debug":null}`, want: []problem{{"debug", policy.ProblemWrongType}}},
	{desc: "string where an integer is expected", input: `{"allowed_origins":["https://a.example"],"max_age_seconds":"600"}`, want: []problem{{"max_age_seconds", policy.ProblemWrongType}}},
	{desc: "fractional max age", input: `{"allowed_origins":["https://a.example"],"max_age_seconds":1.5}`, want: []problem{{"max_age_seconds", policy.ProblemWrongType}}},
	{desc: "rules not an array", input: `{"rules":{"name":"a"}}`, want: []problem{{"rules", policy.ProblemWrongType}}},
	{desc: "empty rules", input: `{"allowed_origins":["https://a.example"],"rules":[]}`, want: []problem{{"rules", policy.ProblemMissing}}},
	{desc: "invalid mode", input: `{"allowed_origins":["https://a.example"],"mode":"audit"}`, want: []problem{{"mode", policy.ProblemInvalidValue}}},

	// Origins.
	{desc: "no origins at all", input: `{"allow_credentials":true}`, want: []problem{{"allowed_origins", policy.ProblemNoOrigins}}},
	{desc: "rule with no effective origins", input: `{"rules":[{"name":"a","allowed_origins":["https://a.example"]},{"name":"b","match":{"paths":["/b"]}}]}`, want: []problem{{"rules[1]", policy.ProblemNoOrigins}}},
	{desc: "any origin with credentials", input: `{"allowed_origins":["*"],"allow_credentials":true}`, want: []problem{{"allowed_origins[0]", policy.ProblemCredentials}}},
	{desc: "inherited any origin with a rule's credentials", input: `{"allowed_origins":["*"],"rules":[{"name":"w","allow_credentials":true}]}`, want: []problem{{"allowed_origins[0]", policy.ProblemCredentials}}},
	{desc: "null without opt-in", input: `{"allowed_origins":["null"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNullOrigin}}},
	{desc: "file scheme", input: `{"allowed_origins":["file://"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNullOrigin}}},
	{desc: "upper-case host", input: `{"allowed_origins":["https://App.example.com"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "upper-case scheme", input: `{"allowed_origins":["HTTPS://app.example.com"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "default https port", input: `{"allowed_origins":["https://app.example.com:443"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "default http port", input: `{"allowed_origins":["http://app.example.com:80"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "trailing slash", input: `{"allowed_origins":["https://app.example.com/"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "path", input: `{"allowed_origins":["https://app.example.com/app"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "userinfo", input: `{"allowed_origins":["https://user@app.example.com"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "trailing dot", input: `{"allowed_origins":["https://app.example.com."]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "non-ASCII host", input: `{"allowed_origins":["https://bücher.example"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "non-canonical IPv4", input: `{"allowed_origins":["http://127.000.0.1:3000"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "non-canonical IPv6", input: `{"allowed_origins":["http://[0:0:0:0:0:0:0:1]:3000"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "port leading zero", input: `{"allowed_origins":["https://a.example:08443"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "port out of range", input: `{"allowed_origins":["https://a.example:70000"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemInvalidOrigin}}},
	{desc: "no scheme", input: `{"allowed_origins":["app.example.com"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemInvalidOrigin}}},
	{desc: "wildcard inside a label", input: `{"allowed_origins":["https://app*.example.com"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemWildcard}}},
	{desc: "wildcard in the middle", input: `{"allowed_origins":["https://a.*.example.com"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemWildcard}}},
	{desc: "wildcard scheme", input: `{"allowed_origins":["*://a.example.com"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemInvalidOrigin}}},
	{desc: "partial port wildcard", input: `{"allowed_origins":["http://localhost:30*"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemWildcard}}},
	{desc: "wildcard prefix without dot", input: `{"allowed_origins":["https://*example.com"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemWildcard}}},
	{desc: "rs/cors style prefix wildcard", input: `{"allowed_origins":["h*"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemInvalidOrigin}}},
	{desc: "wildcard over a TLD", input: `{"allowed_origins":["https://*.com"],"allow_credentials":true}`, want: []problem{{"allowed_origins[0]", policy.ProblemPublicSuffix}}},
	{desc: "wildcard over a ccTLD second level", input: `{"allowed_origins":["https://*.co.uk"],"allow_credentials":true}`, want: []problem{{"allowed_origins[0]", policy.ProblemPublicSuffix}}},
	{desc: "wildcard over shared hosting", input: `{"allowed_origins":["https://*.github.io"],"allow_credentials":true}`, want: []problem{{"allowed_origins[0]", policy.ProblemPublicSuffix}}},
	{desc: "wildcard over an IP", input: `{"allowed_origins":["http://*.0.0.1"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemWildcard}}},
	{desc: "http origin with credentials", input: `{"allowed_origins":["http://app.example.com"],"allow_credentials":true}`, want: []problem{{"allowed_origins[0]", policy.ProblemCredentials}}},
	{desc: "http subdomain pattern with credentials", input: `{"allowed_origins":["http://*.example.com"],"allow_credentials":true}`, want: []problem{{"allowed_origins[0]", policy.ProblemCredentials}}},
	{desc: "regex that does not compile", input: `{"allowed_origin_regexes":["^https://(a\\.example$"]}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemInvalidRegex}}},
	{desc: "unanchored regex", input: `{"allowed_origin_regexes":["https://a\\.example"]}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemInvalidRegex}}},
	{desc: "regex anchored on one side", input: `{"allowed_origin_regexes":["^https://a\\.example"]}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemInvalidRegex}}},
	{desc: "regex anchored per alternative only", input: `{"allowed_origin_regexes":["^https://a\\.example$|^https://b\\.example$"]}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemInvalidRegex}}},
	{desc: "regex matching anything", input: `{"allowed_origin_regexes":["^.*$"],"allow_credentials":true}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemTooBroad}}},
	{desc: "regex matching any https origin", input: `{"allowed_origin_regexes":["^https://.+$"],"allow_credentials":true}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemTooBroad}}},

	{desc: "hex final label", input: `{"allowed_origins":["https://foo.0x10"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemInvalidOrigin}}},
	{desc: "IPv4-mapped IPv6 in dotted form", input: `{"allowed_origins":["http://[::ffff:127.0.0.1]:3000"]}`, want: []problem{{"allowed_origins[0]", policy.ProblemNonCanonical}}},
	{desc: "wildcard over a regional AWS endpoint", input: `{"allowed_origins":["https://*.s3.us-east-1.amazonaws.com"],"allow_credentials":true}`, want: []problem{{"allowed_origins[0]", policy.ProblemPublicSuffix}}},
	{desc: "wildcard over myshopify", input: `{"allowed_origins":["https://*.myshopify.com"],"allow_credentials":true}`, want: []problem{{"allowed_origins[0]", policy.ProblemPublicSuffix}}},
	{desc: "regex with an unescaped dot", input: `{"allowed_origin_regexes":["^https://app.example\\.com$"],"allow_credentials":true}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemTooBroad}}},
	{desc: "regex with a trailing wildcard", input: `{"allowed_origin_regexes":["^https://app\\.example\\.com.*$"],"allow_credentials":true}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemTooBroad}}},
	{desc: "regex over a TLD", input: `{"allowed_origin_regexes":["^https://(a|b)[a-z]*\\.io$"],"allow_credentials":true}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemTooBroad}}},
	{desc: "regex over a ccTLD second level", input: `{"allowed_origin_regexes":["^https://(a|b)[a-z]*\\.com\\.au$"],"allow_credentials":true}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemTooBroad}}},
	{desc: "regex host not anchored at a label", input: `{"allowed_origin_regexes":["^https://.*example\\.com$"],"allow_credentials":true}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemTooBroad}}},
	{desc: "regex host with a character-class prefix", input: `{"allowed_origin_regexes":["^https://[a-z0-9.-]+example\\.com$"],"allow_credentials":true}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemTooBroad}}},
	{desc: "regex host followed by a repeated label", input: `{"allowed_origin_regexes":["^https://a\\.example\\.com(\\.[a-z]+)*$"],"allow_credentials":true}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemTooBroad}}},
	{desc: "http regex with credentials", input: `{"allowed_origin_regexes":["^http://app\\.example\\.com$"],"allow_credentials":true}`, want: []problem{{"allowed_origin_regexes[0]", policy.ProblemCredentials}}},
	{desc: "invalid UTF-8", input: "{\"allowed_origins\":[\"https://a.example\"],\"rules\":[{\"name\":\"a\",\"match\":{\"route_names\":[\"r\xff\"]}}]}", want: []problem{{"", policy.ProblemInvalidJSON}}},
	{desc: "hostile nesting", input: `{"allowed_origins":["https://a.example"],"x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, want: []problem{{"", policy.ProblemInvalidJSON}}},
	{desc: "match methods wildcard", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"methods":["*"]}}]}`, want: []problem{{"rules[0].match.methods[0]", policy.ProblemInvalidMethod}}},
	{desc: "match host bracket garbage", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"hosts":["[garbage"]}}]}`, want: []problem{{"rules[0].match.hosts[0]", policy.ProblemInvalidMatch}}},
	{desc: "match path with a control character", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"paths":["/a\u0000"]}}]}`, want: []problem{{"rules[0].match.paths[0]", policy.ProblemInvalidMatch}}},

	// Methods and headers.
	{desc: "forbidden method", input: `{"allowed_origins":["https://a.example"],"allowed_methods":["CONNECT"]}`, want: []problem{{"allowed_methods[0]", policy.ProblemForbiddenMethod}}},
	{desc: "forbidden method in lower case", input: `{"allowed_origins":["https://a.example"],"allowed_methods":["trace"]}`, want: []problem{{"allowed_methods[0]", policy.ProblemForbiddenMethod}}},
	{desc: "TRACK", input: `{"allowed_origins":["https://a.example"],"allowed_methods":["TRACK"]}`, want: []problem{{"allowed_methods[0]", policy.ProblemForbiddenMethod}}},
	{desc: "invalid method token", input: `{"allowed_origins":["https://a.example"],"allowed_methods":["PUT DELETE"]}`, want: []problem{{"allowed_methods[0]", policy.ProblemInvalidMethod}}},
	{desc: "method browsers upper-case", input: `{"allowed_origins":["https://a.example"],"allowed_methods":["delete"]}`, want: []problem{{"allowed_methods[0]", policy.ProblemInvalidMethod}}},
	{desc: "invalid header token", input: `{"allowed_origins":["https://a.example"],"allowed_request_headers":["x foo"]}`, want: []problem{{"allowed_request_headers[0]", policy.ProblemInvalidHeader}}},
	{desc: "forbidden request header", input: `{"allowed_origins":["https://a.example"],"allowed_request_headers":["Cookie"]}`, want: []problem{{"allowed_request_headers[0]", policy.ProblemForbiddenHeader}}},
	{desc: "forbidden sec- header", input: `{"allowed_origins":["https://a.example"],"allowed_request_headers":["Sec-Fetch-Mode"]}`, want: []problem{{"allowed_request_headers[0]", policy.ProblemForbiddenHeader}}},
	{desc: "forbidden response header", input: `{"allowed_origins":["https://a.example"],"exposed_response_headers":["Set-Cookie"]}`, want: []problem{{"exposed_response_headers[0]", policy.ProblemForbiddenHeader}}},
	{desc: "expose wildcard with credentials", input: `{"allowed_origins":["https://a.example"],"allow_credentials":true,"exposed_response_headers":["*"]}`, want: []problem{{"exposed_response_headers[0]", policy.ProblemCredentials}}},

	// Numbers.
	{desc: "negative max age", input: `{"allowed_origins":["https://a.example"],"max_age_seconds":-1}`, want: []problem{{"max_age_seconds", policy.ProblemOutOfRange}}},
	{desc: "max age above a day", input: `{"allowed_origins":["https://a.example"],"max_age_seconds":86401}`, want: []problem{{"max_age_seconds", policy.ProblemOutOfRange}}},
	{desc: "huge max age", input: `{"allowed_origins":["https://a.example"],"max_age_seconds":99999999999999999999}`, want: []problem{{"max_age_seconds", policy.ProblemOutOfRange}}},
	{desc: "non-2xx preflight status", input: `{"allowed_origins":["https://a.example"],"preflight_status":302}`, want: []problem{{"preflight_status", policy.ProblemOutOfRange}}},
	{desc: "preflight status as string", input: `{"allowed_origins":["https://a.example"],"preflight_status":"204"}`, want: []problem{{"preflight_status", policy.ProblemWrongType}}},

	// Rules.
	{desc: "duplicate rule names", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"api"},{"name":"api"}]}`, want: []problem{{"rules[1].name", policy.ProblemDuplicateName}}},
	{desc: "rule names one metric series apart", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"a-b","match":{"paths":["/x"]}},{"name":"c"},{"name":"a_b"}]}`, want: []problem{{"rules[2].name", policy.ProblemDuplicateName}}},
	{desc: "rule without a name", input: `{"allowed_origins":["https://a.example"],"rules":[{"match":{"paths":["/x"]}}]}`, want: []problem{{"rules[0]", policy.ProblemMissing}}},
	{desc: "rule name unfit for metrics", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"my api"}]}`, want: []problem{{"rules[0].name", policy.ProblemInvalidName}}},
	{desc: "path without slash", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"paths":["api"]}}]}`, want: []problem{{"rules[0].match.paths[0]", policy.ProblemInvalidMatch}}},
	{desc: "unanchored path regex", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"path_regexes":["/api/.*"]}}]}`, want: []problem{{"rules[0].match.path_regexes[0]", policy.ProblemInvalidRegex}}},
	{desc: "host with port", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"hosts":["api.example.com:8443"]}}]}`, want: []problem{{"rules[0].match.hosts[0]", policy.ProblemInvalidMatch}}},
	{desc: "host wildcard in the middle", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"hosts":["api.*.com"]}}]}`, want: []problem{{"rules[0].match.hosts[0]", policy.ProblemWildcard}}},
	{desc: "match method in lower case", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"methods":["post"]}}]}`, want: []problem{{"rules[0].match.methods[0]", policy.ProblemInvalidMethod}}},
	{desc: "empty match list", input: `{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"paths":[]}}]}`, want: []problem{{"rules[0].match.paths", policy.ProblemMissing}}},
}

func TestParse_rejectsInvalidConfigs(t *testing.T) {
	const tmpl = "policy.Parse(%s):\n got  %v\n want %v"
	for _, tc := range invalidConfigs {
		t.Run(tc.desc, func(t *testing.T) {
			t.Parallel()
			p, err := policy.Parse([]byte(tc.input))
			if err == nil || p != nil {
				t.Fatalf(tmpl, tc.input, err, tc.want)
			}
			if got := problems(err); !sameProblems(got, tc.want) {
				t.Errorf(tmpl, tc.input, got, tc.want)
			}
		})
	}
}

// sameProblems reports whether got and want hold the same problems, as many
// times each, in any order.
func sameProblems(got, want []problem) bool {
	cmp := func(a, b problem) int {
		return strings.Compare(a.path+"\x00"+string(a.kind), b.path+"\x00"+string(b.kind))
	}
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, cmp)
	slices.SortFunc(want, cmp)
	return slices.Equal(got, want)
}

// problems lists the (path, problem) pairs of a Parse error, in order.
func problems(err error) []problem {
	var out []problem
	for e := range policy.Errors(err) {
		out = append(out, problem{e.Path, e.Problem})
	}
	return out
}

func TestParse_reportsEveryErrorAtOnce(t *testing.T) {
	input := `{"allowed_origins":["https://A.example","null","https://*.com"],"allow_credentials":true,"allowed_methods":["TRACE"],"max_age_seconds":-5,"bogus":true,
		"rules":[{"name":"a","allowed_origins":["http://x.example"],"allow_credentials":true},{"name":"a","preflight_status":500}]}`
	_, err := policy.Parse([]byte(input))
	want := []problem{
		{"allowed_origins[0]", policy.ProblemNonCanonical},
		{"allowed_origins[2]", policy.ProblemPublicSuffix},
		{"allowed_methods[0]", policy.ProblemForbiddenMethod},
		{"max_age_seconds", policy.ProblemOutOfRange},
		{"bogus", policy.ProblemUnknownKey},
		{"rules[0].allowed_origins[0]", policy.ProblemCredentials},
		{"rules[1].name", policy.ProblemDuplicateName},
		{"rules[1].preflight_status", policy.ProblemOutOfRange},
		{"allowed_origins[1]", policy.ProblemNullOrigin},
	}
	if got := problems(err); !sameProblems(got, want) {
		t.Errorf("policy.Parse(%s):\n got  %v\n want %v", input, got, want)
	}
}

func TestError_messagesStartWithPrefixAndPath(t *testing.T) {
	for _, tc := range invalidConfigs {
		_, err := policy.Parse([]byte(tc.input))
		if err == nil {
			continue
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "cors: ") {
				t.Errorf("%s: message %q lacks the \"cors: \" prefix", tc.desc, line)
			}
			if strings.HasSuffix(line, ".") {
				t.Errorf("%s: message %q ends with a period", tc.desc, line)
			}
		}
		for _, w := range tc.want {
			if w.path != "" && !strings.Contains(err.Error(), "cors: "+w.path+": ") {
				t.Errorf("%s: message %q does not name path %q", tc.desc, err, w.path)
			}
		}
	}
}

// Golden messages, as docs/guide/configuration.md shows them.
func TestError_goldenMessages(t *testing.T) {
	cases := []struct{ input, want string }{
		{`{"allowed_origins":["https://example.com:443"]}`, `cors: allowed_origins[0]: "https://example.com:443": the default port must be elided`},
		{`{"allowed_origins":["*"],"allow_credentials":true}`, `cors: allowed_origins[0]: "*": for security reasons, any origin cannot be combined with allow_credentials: list the allowed origins`},
		{`{"allowed_origins":["https://a.example"],"alow_credentials":true}`, `cors: alow_credentials: unknown key (did you mean "allow_credentials"?)`},
		{`{"allowed_origins":["https://a.example"],"rules":[{"name":"web-app","match":{"paths":["/x"]}},{"name":"web_app"}]}`,
			`cors: rules[1].name: "web_app": its metrics would be counted with those of rule "web-app" (at rules[0].name): Envoy exports both as cors_web_app_*, since Prometheus names turn '-' into '_'; rename one`},
	}
	for _, tc := range cases {
		_, err := policy.Parse([]byte(tc.input))
		if err == nil || err.Error() != tc.want {
			t.Errorf("policy.Parse(%s):\n got  %v\n want %s", tc.input, err, tc.want)
		}
	}
}

var validConfigs = []struct {
	desc  string
	input string
}{
	{"simplest", `{"allowed_origins":["https://app.example.com"]}`},
	{"no origin at all", `{"allowed_origins":[]}`},
	{"any origin", `{"allowed_origins":["*"]}`},
	{"subdomains and ports", `{"allowed_origins":["https://*.example.com","http://localhost:*","https://*.example.co.uk:8443","http://[::1]:3000","http://127.0.0.1:*"]}`},
	{"loopback http with credentials", `{"allowed_origins":["http://localhost:3000","http://127.0.0.1:8080","http://[::1]:5173"],"allow_credentials":true}`},
	{"insecure with opt-in", `{"allowed_origins":["http://intranet.example"],"allow_credentials":true,"dangerously_allow_insecure_origins_with_credentials":true}`},
	{"null with opt-in", `{"allowed_origins":["null"],"dangerously_allow_null_origin":true}`},
	{"duplicate wildcard", `{"allowed_origins":["*","*","https://b.example"]}`},
	{"duplicate null", `{"allowed_origins":["null","null"],"dangerously_allow_null_origin":true}`},
	{"localhost subdomains with credentials", `{"allowed_origins":["http://*.localhost:*"],"allow_credentials":true}`},
	{"regex with optional subdomain and port", `{"allowed_origin_regexes":["^https://([a-z0-9-]+\\.)?example\\.com(:[0-9]+)?$","^https://app\\.example\\.com(:[0-9]+)?$","^https://[a-z]+\\.example\\.org$"]}`},
	{"https regex with credentials", `{"allowed_origin_regexes":["^https://([a-z0-9-]+\\.)?example\\.com(:[0-9]+)?$"],"allow_credentials":true}`},
	{"IPv4-mapped IPv6 as browsers write it", `{"allowed_origins":["http://[::ffff:7f00:1]:3000"]}`},
	{"bracketed host match", `{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"hosts":["[::1]"]}}]}`},
	{"extension origin", `{"allowed_origins":["chrome-extension://abcdefghijklmnopabcdefghijklmnop"]}`},
	{"regex only", `{"allowed_origin_regexes":["^https://(www|app)\\.example\\.com$"]}`},
	{"everything", `{"allowed_origins":["https://app.example.com"],"allowed_methods":["PUT","DELETE","PATCH","*"],"allowed_request_headers":["X-CSRF-Token","Authorization","*"],"exposed_response_headers":["X-Request-Id"],"allow_credentials":true,"max_age_seconds":7200,"allow_private_network":true,"preflight_status":200,"mode":"report_only","reject_disallowed_origins":true,"forward_denied_preflights":true,"debug":true}`},
	{"expose wildcard without credentials", `{"allowed_origins":["https://a.example"],"exposed_response_headers":["*"]}`},
	{"rules with inheritance", `{"allowed_origins":["https://app.example.com"],"allow_credentials":true,"rules":[
		{"name":"public","match":{"path_prefixes":["/public/"],"methods":["GET"]},"allowed_origins":["*"],"allow_credentials":false},
		{"name":"api","match":{"hosts":["api.example.com","*.api.example.com"],"paths":["/v1/orders"],"path_regexes":["^/v1/items/[0-9]+$"],"route_names":["orders"]},"allowed_methods":["PUT"]},
		{"name":"rest"}]}`},
	{"rule names distinct in Prometheus", `{"allowed_origins":["https://a.example"],"rules":[
		{"name":"a-b","match":{"paths":["/1"]}},{"name":"ab","match":{"paths":["/2"]}},{"name":"a_b_c","match":{"paths":["/3"]}},
		{"name":"A-b","match":{"paths":["/4"]}},{"name":"internal","match":{"paths":["/5"]}},{"name":"x_preflight"}]}`},
}

func TestParse_acceptsValidConfigs(t *testing.T) {
	for _, tc := range validConfigs {
		t.Run(tc.desc, func(t *testing.T) {
			t.Parallel()
			p, err := policy.Parse([]byte(tc.input))
			if err != nil {
				t.Fatalf("policy.Parse(%s): got %v; want nil", tc.input, err)
			}
			// The effective form parses again into the same policy.
			again, err := policy.Parse([]byte(p.String()))
			if err != nil {
				t.Fatalf("policy.Parse(%s): got %v; want nil", p, err)
			}
			if again.String() != p.String() {
				t.Errorf("round trip:\n got  %s\n want %s", again, p)
			}
		})
	}
}

func TestParse_warnings(t *testing.T) {
	cases := []struct {
		desc, input, want string
	}{
		{"max age above Chromium's cap", `{"allowed_origins":["https://a.example"],"max_age_seconds":86400}`, "cors: max_age_seconds: 86400 exceeds Chromium's cap"},
		{"shadowed rule", `{"allowed_origins":["https://a.example"],"rules":[{"name":"all"},{"name":"never","match":{"paths":["/x"]}}]}`, `cors: rules[1]: rule "never" is unreachable`},
		{"duplicate origin", `{"allowed_origins":["https://a.example","https://a.example"]}`, `cors: allowed_origins[1]: "https://a.example" is listed twice`},
		{"debug discloses the policy", `{"allowed_origins":["https://a.example"],"rules":[{"name":"r","debug":true}]}`, `cors: rules[0].debug: true adds x-cors-debug`},
		{"a safelisted method listed", `{"allowed_origins":["https://a.example"],"allowed_methods":["GET"]}`,
			`cors: allowed_methods[0]: "GET" is always allowed, whatever allowed_methods says: browsers send GET, HEAD and POST without a preflight, so a simple POST from any allowed origin gets through as well; remove it`},
		{"safelisted methods listed", `{"allowed_origins":["https://a.example"],"rules":[{"name":"r","allowed_methods":["PUT","HEAD","POST","GET"]}]}`,
			`cors: rules[0].allowed_methods[2]: "POST" is always allowed`},
	}
	for _, tc := range cases {
		p, err := policy.Parse([]byte(tc.input))
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		w := strings.Join(p.Warnings(), "\n")
		if !strings.Contains(w, tc.want) {
			t.Errorf("%s: warnings %q; want one containing %q", tc.desc, w, tc.want)
		}
	}
}

func TestParse_noWarningForWhatNeedsNone(t *testing.T) {
	for _, cfg := range []string{
		`{"allowed_origins":["https://a.example"],"allowed_methods":["PUT"],"debug":false}`,
		`{"allowed_origins":["https://a.example"],"allowed_methods":[]}`,
	} {
		p, err := policy.Parse([]byte(cfg))
		if err != nil {
			t.Fatalf("policy.Parse(%s): %v", cfg, err)
		}
		if w := p.Warnings(); len(w) > 0 {
			t.Errorf("policy.Parse(%s): got warnings %q; want none", cfg, w)
		}
	}
}

func TestParse_capsErrorCount(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"allowed_origins":["https://a.example"]`)
	for i := range 500 {
		b.WriteString(`,"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26) + `":1`)
	}
	b.WriteString("}")
	_, err := policy.Parse([]byte(b.String()))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 101 || !strings.Contains(lines[100], "and 400 more errors") {
		t.Errorf("got %d lines, last %q; want 100 errors and a count of the rest", len(lines), lines[len(lines)-1])
	}
}

func TestPolicy_ruleNames(t *testing.T) {
	p, err := policy.Parse([]byte(`{"allowed_origins":["https://a.example"],"rules":[{"name":"x","match":{"paths":["/x"]}},{"name":"y"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.RuleNames(), ","); got != "x,y" {
		t.Errorf("RuleNames() = %q; want \"x,y\"", got)
	}
	p, _ = policy.Parse([]byte(`{"allowed_origins":["https://a.example"]}`))
	if got := strings.Join(p.RuleNames(), ","); got != "default" {
		t.Errorf("RuleNames() = %q; want \"default\"", got)
	}
}

func TestPolicy_usesRouteNames(t *testing.T) {
	for cfg, want := range map[string]bool{
		`{"allowed_origins":["https://a.example"]}`:                                                      false,
		`{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"paths":["/a"]}}]}`:      false,
		`{"allowed_origins":["https://a.example"],"rules":[{"name":"a","match":{"route_names":["r"]}}]}`: true,
	} {
		p, err := policy.Parse([]byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.UsesRouteNames(); got != want {
			t.Errorf("UsesRouteNames() for %s = %v; want %v", cfg, got, want)
		}
	}
}
