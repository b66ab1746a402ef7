package importer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	istio "istio.io/api/networking/v1alpha3"
)

// istio converts a VirtualService: one rule per HTTP route and match, in
// the routes' order (Istio, like this filter, takes the first route that
// matches). A route without corsPolicy becomes a rule with mode "off", so
// that the requests it takes stay untouched, as they are in Istio.
func (c *converter) istio(doc []byte) error {
	var obj struct {
		Metadata struct{ Name, Namespace string }
		Spec     json.RawMessage
	}
	if err := json.Unmarshal(doc, &obj); err != nil {
		return err
	}
	var vs istio.VirtualService
	spec, err := goDurations(obj.Spec)
	if err != nil {
		return err
	}
	if err := protojson.Unmarshal(spec, &vs); err != nil {
		return fmt.Errorf("VirtualService %s: not a valid spec for istio.io/api networking/v1alpha3: %v", obj.Metadata.Name, err)
	}
	id := "VirtualService " + qualified(obj.Metadata.Namespace, obj.Metadata.Name)
	c.sources = append(c.sources, id+": validated against istio.io/api networking/v1alpha3")
	c.names = append(c.names, id)
	c.group++
	hosts := c.hostMatch(vs.GetHosts(), id+", spec.hosts")
	for i, route := range vs.GetHttp() {
		where := fmt.Sprintf("%s, spec.http[%d]", id, i)
		if route.GetDelegate() != nil {
			c.change(where, "a delegate route: import the delegate VirtualService itself; its requests are left untouched here")
		}
		base := Rule{Name: route.GetName(), AllowedOrigins: []string{}}
		if base.Name == "" {
			base.Name = fmt.Sprintf("%s-%d", obj.Metadata.Name, i)
		}
		if cp := route.GetCorsPolicy(); cp != nil && route.GetDelegate() == nil {
			c.istioCors(&base, cp, where+".corsPolicy")
			base.Description = "from " + where
		} else {
			base.Mode = "off"
			base.Description = "from " + where + ", which has no corsPolicy: its requests are left untouched"
		}
		matches := route.GetMatch()
		if len(matches) == 0 {
			r := base
			r.Match = &Match{Hosts: hosts}
			r.order = []int{0, c.group, i}
			c.add(r)
			continue
		}
		for j, m := range matches {
			r := base
			if len(matches) > 1 {
				r.Name = fmt.Sprintf("%s-%d", base.Name, j)
			}
			r.Match = c.istioMatch(m, hosts, fmt.Sprintf("%s.match[%d]", where, j))
			r.order = []int{0, c.group, i, j}
			c.add(r)
		}
	}
	return nil
}

// add appends a rule, dropping an empty match.
func (c *converter) add(r Rule) {
	if r.Match.empty() {
		r.Match = nil
	}
	c.rules = append(c.rules, r)
}

func (c *converter) istioCors(r *Rule, cp *istio.CorsPolicy, where string) {
	//lint:ignore SA1019 an importer reads the deprecated allowOrigin that VirtualServices still use
	for k, o := range cp.GetAllowOrigin() {
		c.change(fmt.Sprintf("%s.allowOrigin[%d]", where, k), "the deprecated allowOrigin is read as an exact origin")
		c.exactOrigin(r, o, fmt.Sprintf("%s.allowOrigin[%d]", where, k))
	}
	for k, m := range cp.GetAllowOrigins() {
		var sm stringMatch
		switch m.GetMatchType().(type) {
		case *istio.StringMatch_Exact:
			s := m.GetExact()
			sm.exact = &s
		case *istio.StringMatch_Prefix:
			s := m.GetPrefix()
			sm.prefix = &s
		case *istio.StringMatch_Regex:
			s := m.GetRegex()
			sm.regex = &s
		}
		c.origin(r, sm, fmt.Sprintf("%s.allowOrigins[%d]", where, k))
	}
	c.methods(r, cp.GetAllowMethods(), where+".allowMethods")
	r.AllowedRequestHeaders = headers(cp.GetAllowHeaders())
	r.ExposedResponseHeaders = headers(cp.GetExposeHeaders())
	r.AllowCredentials = cp.GetAllowCredentials().GetValue()
	if ma := cp.GetMaxAge(); ma != nil {
		c.maxAge(r, ma.GetSeconds(), where+".maxAge")
	}
	switch cp.GetUnmatchedPreflights() {
	case istio.CorsPolicy_IGNORE:
		c.change(where+".unmatchedPreflights", "IGNORE answers a preflight from another origin with 200 and no CORS headers; here it gets 403 and no CORS headers (the browser fails both alike)")
	default:
		// FORWARD, Istio's default: the upstream gets the preflight.
		r.ForwardDeniedPreflights = true
	}
	c.credentialsNotes(r, where)
}

func (c *converter) istioMatch(m *istio.HTTPMatchRequest, hosts []string, where string) *Match {
	out := &Match{Hosts: hosts}
	switch u := m.GetUri().GetMatchType().(type) {
	case *istio.StringMatch_Exact:
		out.Paths = []string{u.Exact}
	case *istio.StringMatch_Prefix:
		out.PathPrefixes = []string{u.Prefix}
	case *istio.StringMatch_Regex:
		out.PathRegexes = []string{"^(?:" + u.Regex + ")$"}
		c.change(where+".uri.regex", "written %s, for the policy's RE2 subset", out.PathRegexes[0])
	}
	if m.GetIgnoreUriCase() {
		c.change(where+".ignoreUriCase", "paths are compared case-sensitively here")
	}
	if a := m.GetAuthority(); a != nil {
		if e := a.GetExact(); e != "" {
			out.Hosts = c.hostMatch([]string{e}, where+".authority")
		} else {
			c.change(where+".authority", "only an exact authority can be matched here: the rule matches the VirtualService's hosts")
		}
	}
	if meth := m.GetMethod(); meth != nil {
		if e := meth.GetExact(); e != "" {
			out.Methods = []string{e}
		} else {
			c.change(where+".method", "only an exact method can be matched here: the rule matches every method")
		}
	}
	for _, f := range []struct {
		what string
		set  bool
	}{
		{"headers", len(m.GetHeaders()) > 0}, {"withoutHeaders", len(m.GetWithoutHeaders()) > 0},
		{"queryParams", len(m.GetQueryParams()) > 0}, {"port", m.GetPort() != 0}, {"sourceLabels", len(m.GetSourceLabels()) > 0},
		{"gateways", len(m.GetGateways()) > 0}, {"scheme", m.GetScheme() != nil}, {"sourceNamespace", m.GetSourceNamespace() != ""},
	} {
		if f.set {
			c.change(where+"."+f.what, "cannot be matched here: the rule governs these requests whatever their %s", f.what)
		}
	}
	return out
}

// durationKeys are the VirtualService fields that hold a Duration, which
// Istio reads in Go's syntax ("10m", "1h30m") as well as protobuf's ("600s").
var durationKeys = map[string]bool{"maxAge": true, "max_age": true, "timeout": true, "perTryTimeout": true, "per_try_timeout": true, "fixedDelay": true, "fixed_delay": true}

// goDurations rewrites Go-syntax durations under durationKeys as protobuf's
// JSON form, for protojson.
func goDurations(spec []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(spec, &v); err != nil {
		return nil, err
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && durationKeys[k] {
					if d, err := time.ParseDuration(s); err == nil {
						v[k] = strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
					}
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return json.Marshal(v)
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
