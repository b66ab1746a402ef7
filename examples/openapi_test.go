package examples

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"unicode/utf8"
)

// openAPIValidator checks a decoded JSON value against the structural
// OpenAPI v3 subset that Kubernetes CRDs use: type, properties (unknown
// fields are errors, as with kubectl's strict field validation), required,
// additionalProperties, items, enum, lengths, counts, pattern, bounds,
// allOf/anyOf/oneOf/not, x-kubernetes-int-or-string and
// x-kubernetes-preserve-unknown-fields. CEL rules (x-kubernetes-validations)
// are counted, not evaluated.
type openAPIValidator struct {
	errs       []error
	celSkipped int
}

func (v *openAPIValidator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

func (v *openAPIValidator) validate(s map[string]any, val any, path string) {
	if rules, ok := s["x-kubernetes-validations"].([]any); ok {
		v.celSkipped += len(rules)
	}
	if val == nil {
		if s["nullable"] != true {
			v.errorf(path, "null is not allowed")
		}
		return
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(val) }) {
		v.errorf(path, "value %v is not one of %v", val, enum)
	}
	for _, sub := range schemas(s["allOf"]) {
		v.validate(sub, val, path)
	}
	if subs := schemas(s["anyOf"]); len(subs) > 0 && v.matching(subs, val, path) == 0 {
		v.errorf(path, "matches none of anyOf")
	}
	if subs := schemas(s["oneOf"]); len(subs) > 0 {
		if n := v.matching(subs, val, path); n != 1 {
			v.errorf(path, "matches %d of oneOf, want exactly 1", n)
		}
	}
	// not, as the CRDs generated from protobuf oneofs use it:
	// oneOf: [{not: {anyOf: [{required: [a]}, {required: [b]}]}}, {required: [a]}, {required: [b]}].
	if not, ok := s["not"].(map[string]any); ok && v.matching([]map[string]any{not}, val, path) == 1 {
		v.errorf(path, "matches the schema under not")
	}
	if s["x-kubernetes-int-or-string"] == true {
		switch x := val.(type) {
		case string:
		case float64:
			if x != math.Trunc(x) {
				v.errorf(path, "want an integer or a string, got %v", x)
			}
		default:
			v.errorf(path, "want an integer or a string, got %T", val)
		}
		return
	}
	switch typ, _ := s["type"].(string); typ {
	case "object":
		obj, ok := val.(map[string]any)
		if !ok {
			v.errorf(path, "want an object, got %T", val)
			return
		}
		v.validateObject(s, obj, path)
	case "array":
		arr, ok := val.([]any)
		if !ok {
			v.errorf(path, "want an array, got %T", val)
			return
		}
		if n, ok := s["minItems"].(float64); ok && float64(len(arr)) < n {
			v.errorf(path, "%d items, want at least %v", len(arr), n)
		}
		if n, ok := s["maxItems"].(float64); ok && float64(len(arr)) > n {
			v.errorf(path, "%d items, want at most %v", len(arr), n)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range arr {
				v.validate(items, e, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	case "string":
		str, ok := val.(string)
		if !ok {
			v.errorf(path, "want a string, got %T", val)
			return
		}
		n := float64(utf8.RuneCountInString(str))
		if m, ok := s["minLength"].(float64); ok && n < m {
			v.errorf(path, "%q shorter than %v", str, m)
		}
		if m, ok := s["maxLength"].(float64); ok && n > m {
			v.errorf(path, "%q longer than %v", str, m)
		}
		if p, ok := s["pattern"].(string); ok {
			// Kubernetes patterns are ECMA-262; the few RE2 cannot
			// compile are left to the API server.
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(str) {
				v.errorf(path, "%q does not match %q", str, p)
			}
		}
	case "integer", "number":
		num, ok := val.(float64)
		if !ok || typ == "integer" && num != math.Trunc(num) {
			v.errorf(path, "want an %s, got %v", typ, val)
			return
		}
		if m, ok := s["minimum"].(float64); ok && num < m {
			v.errorf(path, "%v below the minimum %v", num, m)
		}
		if m, ok := s["maximum"].(float64); ok && num > m {
			v.errorf(path, "%v above the maximum %v", num, m)
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			v.errorf(path, "want a boolean, got %T", val)
		}
	case "":
		// A schema without a type, such as a oneOf branch, still requires.
		if obj, ok := val.(map[string]any); ok {
			for _, r := range stringList(s["required"]) {
				if _, ok := obj[r]; !ok {
					v.errorf(path, "missing required field %q", r)
				}
			}
		}
	}
}

func (v *openAPIValidator) validateObject(s map[string]any, obj map[string]any, path string) {
	props, _ := s["properties"].(map[string]any)
	for _, r := range stringList(s["required"]) {
		if _, ok := obj[r]; !ok {
			v.errorf(path, "missing required field %q", r)
		}
	}
	if n, ok := s["minProperties"].(float64); ok && float64(len(obj)) < n {
		v.errorf(path, "%d fields, want at least %v", len(obj), n)
	}
	if n, ok := s["maxProperties"].(float64); ok && float64(len(obj)) > n {
		v.errorf(path, "%d fields, want at most %v", len(obj), n)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := path + "." + k
		if ps, ok := props[k].(map[string]any); ok {
			v.validate(ps, obj[k], p)
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case map[string]any:
			v.validate(ap, obj[k], p)
			continue
		case bool:
			if ap {
				continue
			}
		}
		if s["x-kubernetes-preserve-unknown-fields"] == true {
			continue
		}
		if props != nil || s["additionalProperties"] == false {
			v.errorf(p, "unknown field")
		}
	}
}

// matching counts the subschemas val satisfies, without recording their errors.
func (v *openAPIValidator) matching(subs []map[string]any, val any, path string) int {
	n := 0
	for _, sub := range subs {
		probe := &openAPIValidator{}
		probe.validate(sub, val, path)
		v.celSkipped += probe.celSkipped
		if len(probe.errs) == 0 {
			n++
		}
	}
	return n
}

func schemas(x any) []map[string]any {
	list, _ := x.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func stringList(x any) []string {
	list, _ := x.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
