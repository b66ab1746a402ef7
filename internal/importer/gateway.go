package importer

import (
	"fmt"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// gateway converts an HTTPRoute: one rule per route rule and match.
// Gateway API does not take the first rule that matches but the most
// specific one (an exact path, then the longest prefix, then a method
// match, then the most header and query matches), so the rules are sorted
// that way. A rule without a CORS filter becomes a rule with mode "off".
func (c *converter) gateway(doc []byte) error {
	var route gatewayv1.HTTPRoute
	if err := yaml.UnmarshalStrict(doc, &route); err != nil {
		return fmt.Errorf("HTTPRoute: not valid for sigs.k8s.io/gateway-api apis/v1: %v", err)
	}
	id := "HTTPRoute " + qualified(route.Namespace, route.Name)
	c.sources = append(c.sources, id+": validated against sigs.k8s.io/gateway-api apis/v1 (its Go types; the CRD's CEL rules are the API server's)")
	c.names = append(c.names, id)
	c.group++
	var hostnames []string
	for _, h := range route.Spec.Hostnames {
		hostnames = append(hostnames, string(h))
	}
	hosts := c.hostMatch(hostnames, id+", spec.hostnames")
	for i, rr := range route.Spec.Rules {
		where := fmt.Sprintf("%s, spec.rules[%d]", id, i)
		base := Rule{AllowedOrigins: []string{}}
		if rr.Name != nil {
			base.Name = string(*rr.Name)
		} else {
			base.Name = fmt.Sprintf("%s-%d", route.Name, i)
		}
		var cors *gatewayv1.HTTPCORSFilter
		for k, f := range rr.Filters {
			if f.Type == gatewayv1.HTTPRouteFilterCORS && f.CORS != nil {
				if cors != nil {
					c.change(fmt.Sprintf("%s.filters[%d]", where, k), "a second CORS filter is ignored")
					continue
				}
				cors = f.CORS
				c.gatewayCors(&base, cors, fmt.Sprintf("%s.filters[%d].cors", where, k))
			}
		}
		if cors == nil {
			base.Mode = "off"
			base.Description = "from " + where + ", which has no CORS filter: its requests are left untouched"
		} else {
			base.Description = "from " + where
		}
		matches := rr.Matches
		if len(matches) == 0 {
			prefix := gatewayv1.PathMatchPathPrefix
			slash := "/"
			matches = []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &prefix, Value: &slash}}}
		}
		for j, m := range matches {
			r := base
			if len(matches) > 1 {
				r.Name = fmt.Sprintf("%s-%d", base.Name, j)
			}
			r.Match, r.order = c.gatewayMatch(m, hosts, fmt.Sprintf("%s.matches[%d]", where, j))
			r.order = append(r.order, c.group, i, j)
			c.add(r)
		}
	}
	return nil
}

func (c *converter) gatewayCors(r *Rule, f *gatewayv1.HTTPCORSFilter, where string) {
	for k, o := range f.AllowOrigins {
		ow := fmt.Sprintf("%s.allowOrigins[%d]", where, k)
		s := string(o)
		scheme, host, _ := strings.Cut(s, "://")
		switch {
		case s == "*":
			r.AllowedOrigins = appendNew(r.AllowedOrigins, "*")
		case host == "*" || strings.HasPrefix(host, "*:"):
			re := "^" + strings.ToLower(scheme) + "://.+$"
			if port := strings.TrimPrefix(host, "*"); port != "" && port != ":443" && port != ":80" {
				re = "^" + strings.ToLower(scheme) + "://[^:/]+" + port + "$"
			}
			r.AllowedOriginRegexes = appendNew(r.AllowedOriginRegexes, re)
			c.change(ow, "%q admits every host: written as the regex %s, which admits sites anyone can register (refused with credentials, warned without)", s, re)
		default:
			if strings.HasPrefix(host, "*.") {
				c.change(ow, "the wildcard in %q is greedy: it admits subdomains at any depth (a.b.%s as well as a.%s), and so does it here; list the origins if you meant one level",
					s, strings.TrimPrefix(canonicalOrigin(s), scheme+"://*."), strings.TrimPrefix(canonicalOrigin(s), scheme+"://*."))
			}
			c.exactOrigin(r, s, ow)
		}
	}
	var methods []string
	for _, m := range f.AllowMethods {
		methods = append(methods, string(m))
	}
	c.methods(r, methods, where+".allowMethods")
	var hs, ex []string
	for _, h := range f.AllowHeaders {
		hs = append(hs, string(h))
	}
	for _, h := range f.ExposeHeaders {
		ex = append(ex, string(h))
	}
	r.AllowedRequestHeaders = headers(hs)
	r.ExposedResponseHeaders = headers(ex)
	r.AllowCredentials = f.AllowCredentials != nil && *f.AllowCredentials
	maxAge := int64(f.MaxAge)
	if maxAge == 0 {
		maxAge = 5 // the CRD's default: Access-Control-Max-Age: 5
	}
	c.maxAge(r, maxAge, where+".maxAge")
	c.credentialsNotes(r, where)
}

// gatewayMatch converts one match, and returns its precedence key.
func (c *converter) gatewayMatch(m gatewayv1.HTTPRouteMatch, hosts []string, where string) (*Match, []int) {
	out := &Match{Hosts: hosts}
	class, length := 1, 0
	if p := m.Path; p != nil && p.Value != nil {
		typ := gatewayv1.PathMatchPathPrefix
		if p.Type != nil {
			typ = *p.Type
		}
		v := *p.Value
		switch typ {
		case gatewayv1.PathMatchExact:
			class, out.Paths = 0, []string{v}
		case gatewayv1.PathMatchPathPrefix:
			// Gateway API prefixes match whole path elements: /foo
			// matches /foo and /foo/bar, not /foobar.
			length = len(v)
			if t := strings.TrimSuffix(v, "/"); t != "" {
				out.Paths = []string{t}
				out.PathPrefixes = []string{t + "/"}
			}
		case gatewayv1.PathMatchRegularExpression:
			class = 2
			out.PathRegexes = []string{"^(?:" + v + ")$"}
			c.change(where+".path", "a RegularExpression path (implementation-specific in Gateway API) written %s, for the policy's RE2 subset, and tried after the exact and prefix matches", out.PathRegexes[0])
		}
	}
	method := 1
	if m.Method != nil {
		method = 0
		out.Methods = []string{string(*m.Method)}
	}
	if len(m.Headers) > 0 {
		c.change(where+".headers", "header matches cannot be matched here: the rule governs these requests whatever their headers")
	}
	if len(m.QueryParams) > 0 {
		c.change(where+".queryParams", "query parameter matches cannot be matched here: the rule governs these requests whatever their query")
	}
	return out, []int{1, class, -length, method, -len(m.Headers), -len(m.QueryParams)}
}
