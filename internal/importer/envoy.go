package importer

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// corsFilter is the name of Envoy's CORS filter in typed_per_filter_config.
const corsFilter = "envoy.filters.http.cors"

// envoyCors is what the route-level CorsPolicy and the CORS filter's
// per-route CorsPolicy have in common.
type envoyCors interface {
	GetAllowOriginStringMatch() []*matcherv3.StringMatcher
	GetAllowMethods() string
	GetAllowHeaders() string
	GetExposeHeaders() string
	GetMaxAge() string
	GetAllowCredentials() *wrapperspb.BoolValue
	GetFilterEnabled() *corev3.RuntimeFractionalPercent
	GetShadowEnabled() *corev3.RuntimeFractionalPercent
	GetAllowPrivateNetworkAccess() *wrapperspb.BoolValue
	GetForwardNotMatchingPreflights() *wrapperspb.BoolValue
}

// envoy converts every route configuration (an object with virtual_hosts)
// in a document: a RouteConfiguration on its own, or a bootstrap or
// listener holding one. It returns how many it found.
func (c *converter) envoy(doc []byte) (int, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return 0, err
	}
	var found []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["virtual_hosts"]; ok {
				found = append(found, v)
				return
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k])
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	for _, rc := range found {
		js, _ := json.Marshal(rc)
		var cfg routev3.RouteConfiguration
		if err := protojson.Unmarshal(js, &cfg); err != nil {
			return 0, fmt.Errorf("route configuration: not valid for go-control-plane envoy.config.route.v3.RouteConfiguration: %v", err)
		}
		if err := cfg.ValidateAll(); err != nil {
			return 0, fmt.Errorf("route configuration: %v", err)
		}
		if err := c.envoyRoutes(&cfg); err != nil {
			return 0, err
		}
	}
	return len(found), nil
}

func (c *converter) envoyRoutes(cfg *routev3.RouteConfiguration) error {
	id := "RouteConfiguration " + strconv.Quote(cfg.GetName())
	c.sources = append(c.sources, id+": validated against go-control-plane envoy.config.route.v3 (protojson and its generated validation)")
	c.names = append(c.names, id)
	c.group++
	for v, vh := range cfg.GetVirtualHosts() {
		vwhere := fmt.Sprintf("%s, virtual_hosts[%d] (%s)", id, v, vh.GetName())
		//lint:ignore SA1019 an importer reads the deprecated virtual-host CorsPolicy that configurations still use
		vhCors, err := perFilterCors(vh.GetTypedPerFilterConfig(), vh.GetCors())
		if err != nil {
			return fmt.Errorf("%s: %v", vwhere, err)
		}
		hosts := c.hostMatch(vh.GetDomains(), vwhere+".domains")
		rank := domainRank(vh.GetDomains())
		for i, route := range vh.GetRoutes() {
			where := fmt.Sprintf("%s.routes[%d]", vwhere, i)
			//lint:ignore SA1019 an importer reads the deprecated route-level CorsPolicy that configurations still use
			rc, err := perFilterCors(route.GetTypedPerFilterConfig(), route.GetRoute().GetCors())
			if err != nil {
				return fmt.Errorf("%s: %v", where, err)
			}
			r := Rule{Name: route.GetName(), AllowedOrigins: []string{}, Description: "from " + where}
			if r.Name == "" {
				r.Name = fmt.Sprintf("%s-%d", vh.GetName(), i)
			}
			switch {
			case rc != nil:
				c.envoyCors(&r, rc, where+" CORS policy")
			case vhCors != nil:
				c.envoyCors(&r, vhCors, vwhere+" CORS policy")
			default:
				r.Mode = "off"
				r.Description += ", which has no CORS policy: its requests are left untouched"
			}
			r.Match = c.envoyMatch(route.GetMatch(), hosts, where+".match")
			r.order = []int{2, rank, c.group, v, i}
			c.add(r)
		}
	}
	return nil
}

// perFilterCors returns the CORS filter's per-route policy, else the
// deprecated route-level one, else nil.
func perFilterCors(typed map[string]*anypb.Any, legacy *routev3.CorsPolicy) (envoyCors, error) {
	if a, ok := typed[corsFilter]; ok {
		var p corsv3.CorsPolicy
		if err := a.UnmarshalTo(&p); err != nil {
			return nil, fmt.Errorf("typed_per_filter_config[%q]: want an envoy.extensions.filters.http.cors.v3.CorsPolicy: %v", corsFilter, err)
		}
		if err := p.ValidateAll(); err != nil {
			return nil, err
		}
		return &p, nil
	}
	if legacy != nil {
		return legacy, nil
	}
	return nil, nil
}

// domainRank orders virtual hosts as Envoy picks them: exact domains, then
// suffix wildcards, then prefix wildcards, then "*".
func domainRank(domains []string) int {
	best := 3
	for _, d := range domains {
		r := 0
		switch {
		case d == "*":
			r = 3
		case strings.HasPrefix(d, "*"):
			r = 1
		case strings.HasSuffix(d, "*"):
			r = 2
		}
		best = min(best, r)
	}
	return best
}

func (c *converter) envoyCors(r *Rule, p envoyCors, where string) {
	for k, m := range p.GetAllowOriginStringMatch() {
		var sm stringMatch
		switch m.GetMatchPattern().(type) {
		case *matcherv3.StringMatcher_Exact:
			s := m.GetExact()
			sm.exact = &s
		case *matcherv3.StringMatcher_Prefix:
			s := m.GetPrefix()
			sm.prefix = &s
		case *matcherv3.StringMatcher_Suffix:
			s := m.GetSuffix()
			sm.suffix = &s
		case *matcherv3.StringMatcher_Contains:
			s := m.GetContains()
			sm.contains = &s
		case *matcherv3.StringMatcher_SafeRegex:
			s := m.GetSafeRegex().GetRegex()
			sm.regex = &s
		default:
			c.change(fmt.Sprintf("%s.allow_origin_string_match[%d]", where, k), "a custom matcher cannot be converted: dropped")
			continue
		}
		sm.ignoreCase = m.GetIgnoreCase()
		c.origin(r, sm, fmt.Sprintf("%s.allow_origin_string_match[%d]", where, k))
	}
	c.methods(r, splitList(p.GetAllowMethods()), where+".allow_methods")
	r.AllowedRequestHeaders = headers(splitList(p.GetAllowHeaders()))
	r.ExposedResponseHeaders = headers(splitList(p.GetExposeHeaders()))
	r.AllowCredentials = p.GetAllowCredentials().GetValue()
	if s := p.GetMaxAge(); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			c.change(where+".max_age", "%q is not a number of seconds: dropped", s)
		} else {
			c.maxAge(r, n, where+".max_age")
		}
	}
	if fe := p.GetFilterEnabled(); fe != nil && fe.GetDefaultValue().GetNumerator() == 0 {
		r.Mode = "off"
		c.change(where+".filter_enabled", "0%%: the rule is written with mode \"off\"; a runtime key overriding it is not read")
	} else if fe != nil && fe.GetRuntimeKey() != "" {
		c.change(where+".filter_enabled", "the runtime key %q is not read: the rule is always enforced", fe.GetRuntimeKey())
	}
	if se := p.GetShadowEnabled(); se != nil && se.GetDefaultValue().GetNumerator() > 0 && r.Mode != "off" {
		r.Mode = "report_only"
		c.change(where+".shadow_enabled", "written mode \"report_only\": decisions are counted and logged, not enforced")
	}
	r.AllowPrivateNetwork = p.GetAllowPrivateNetworkAccess().GetValue()
	// Envoy forwards preflights from other origins unless told not to.
	fwd := p.GetForwardNotMatchingPreflights()
	r.ForwardDeniedPreflights = fwd == nil || fwd.GetValue()
	c.credentialsNotes(r, where)
}

func (c *converter) envoyMatch(m *routev3.RouteMatch, hosts []string, where string) *Match {
	out := &Match{Hosts: hosts}
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		if ps.Prefix != "/" && ps.Prefix != "" {
			out.PathPrefixes = []string{ps.Prefix}
		}
	case *routev3.RouteMatch_Path:
		out.Paths = []string{ps.Path}
	case *routev3.RouteMatch_SafeRegex:
		out.PathRegexes = []string{"^(?:" + ps.SafeRegex.GetRegex() + ")$"}
		c.change(where+".safe_regex", "written %s, for the policy's RE2 subset", out.PathRegexes[0])
	case *routev3.RouteMatch_PathSeparatedPrefix:
		out.Paths = []string{ps.PathSeparatedPrefix}
		out.PathPrefixes = []string{ps.PathSeparatedPrefix + "/"}
	default:
		c.change(where, "this path matcher cannot be converted: the rule matches every path")
	}
	if m.GetCaseSensitive() != nil && !m.GetCaseSensitive().GetValue() {
		c.change(where+".case_sensitive", "paths are compared case-sensitively here")
	}
	if len(m.GetHeaders()) > 0 {
		c.change(where+".headers", "header matches cannot be matched here: the rule governs these requests whatever their headers")
	}
	if len(m.GetQueryParameters()) > 0 {
		c.change(where+".query_parameters", "query parameter matches cannot be matched here: the rule governs these requests whatever their query")
	}
	return out
}
