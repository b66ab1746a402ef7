package examples

import (
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	yamlv2 "go.yaml.in/yaml/v2"
)

// specMetrics reads docs/spec.md §4: the per-rule outcomes
// (cors.<rule>.<outcome>, cors_<rule>_<outcome> in Prometheus) and the
// metrics without a rule (cors.unmatched: cors_unmatched).
func specMetrics(t *testing.T) (perRule, global []string, section string) {
	t.Helper()
	data, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	start := strings.Index(s, "## 4. Observability")
	end := strings.Index(s, "## 5.")
	if start < 0 || end < start {
		t.Fatal("docs/spec.md has no §4 Observability")
	}
	section = s[start:end]
	// The names: from the outcomes to the end of the counters' bullet.
	names := section
	if i := strings.Index(names, "with the outcomes"); i >= 0 {
		names = names[i:]
	}
	if i := strings.Index(names, "Cardinality"); i >= 0 {
		names = names[:i]
	}
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(names, -1) {
		tok := m[1]
		switch {
		case regexp.MustCompile(`^[a-z_]+$`).MatchString(tok):
			perRule = append(perRule, tok)
		case strings.HasPrefix(tok, "cors.<rule>.") && regexp.MustCompile(`^[a-z_]+$`).MatchString(strings.TrimPrefix(tok, "cors.<rule>.")):
			perRule = append(perRule, strings.TrimPrefix(tok, "cors.<rule>."))
		case regexp.MustCompile(`^cors\.[a-z_]+$`).MatchString(tok):
			global = append(global, "cors_"+strings.TrimPrefix(tok, "cors."))
		}
	}
	if !slices.Contains(perRule, "preflight_denied_origin") || !slices.Contains(global, "cors_internal_fault") {
		t.Fatalf("could not read the metric names of docs/spec.md §4: %v %v", perRule, global)
	}
	return perRule, global, section
}

// pendingMetric is a metric the monitoring examples use before
// docs/spec.md names it (issue 10 adds them). Once §4 mentions landed, it
// must also hold specName, or the alerts and panels would watch nothing.
type pendingMetric struct {
	suffix          string // a per-rule outcome, cors_<rule>_<suffix>
	prometheusRegex string // or a __name__ regex of its own
	landed          string
	specName        string
}

var pendingMetrics = []pendingMetric{
	{suffix: "candidate_would_deny", landed: "candidate", specName: "candidate_would_deny"},
	{suffix: "candidate_would_allow", landed: "candidate", specName: "candidate_would_allow"},
	{prometheusRegex: "cors_origin_source_.+_age_seconds", landed: "origin source", specName: "cors.origin_source.<name>.age_seconds"},
}

// pending returns the pending metric that a selector names, and reports
// an error if docs/spec.md now describes it under another name.
func pending(t *testing.T, where, section string, match func(pendingMetric) bool) bool {
	t.Helper()
	i := slices.IndexFunc(pendingMetrics, match)
	if i < 0 {
		return false
	}
	p := pendingMetrics[i]
	if strings.Contains(section, p.landed) && !strings.Contains(section, p.specName) {
		t.Errorf("%s: docs/spec.md §4 now describes %s metrics, without %s: follow its names", where, p.landed, p.specName)
	}
	return true
}

var promParser = parser.NewParser(parser.Options{})

// checkQuery parses a PromQL expression and requires every metric it reads
// to be one of docs/spec.md §4 (or a pending one): a name, or a
// {__name__=~"cors_.+_(a|b)"} selector over per-rule outcomes.
func checkQuery(t *testing.T, where, expr string, perRule, global []string, section string) (suffixes []string) {
	t.Helper()
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %v\n%s", where, err, expr)
		return nil
	}
	outcomes := regexp.MustCompile(`^cors_\.\+_(?:\(([a-z_|]+)\)|([a-z_]+))$`)
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name != model.MetricNameLabel {
				continue
			}
			switch m.Type {
			case labels.MatchEqual:
				if !slices.Contains(global, m.Value) {
					t.Errorf("%s: %s is not a metric of docs/spec.md §4 (%v)", where, m.Value, global)
				}
			case labels.MatchRegexp:
				if sub := outcomes.FindStringSubmatch(m.Value); sub != nil {
					for _, o := range strings.Split(sub[1]+sub[2], "|") {
						suffixes = append(suffixes, o)
						if slices.Contains(perRule, o) {
							continue
						}
						if pending(t, where, section, func(p pendingMetric) bool { return p.suffix == o }) {
							continue
						}
						t.Errorf("%s: cors_<rule>_%s is not a metric of docs/spec.md §4 (outcomes %v)", where, o, perRule)
					}
					continue
				}
				if pending(t, where, section, func(p pendingMetric) bool { return p.prometheusRegex == m.Value }) {
					suffixes = append(suffixes, m.Value)
					continue
				}
				t.Errorf("%s: selector __name__=~%q is not over docs/spec.md's metrics", where, m.Value)
			default:
				t.Errorf("%s: unexpected __name__ matcher %s", where, m)
			}
		}
		return nil
	})
	return suffixes
}

// TestAlertRules parses alerts.yaml with Prometheus's own rule parser (the
// one promtool check rules uses: YAML fields, PromQL, label and annotation
// templates), checks each query's metrics against docs/spec.md, and that
// the alerts cover what they must.
func TestAlertRules(t *testing.T) {
	perRule, global, section := specMetrics(t)
	groups, errs := rulefmt.ParseFile("monitoring/alerts.yaml", false, model.UTF8Validation, promParser, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("alerts.yaml: %v", err)
	}
	if groups == nil {
		t.FailNow()
	}
	uses := map[string][]string{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("rule %q is not an alert", r.Record)
				continue
			}
			uses[r.Alert] = checkQuery(t, "alerts.yaml "+r.Alert, r.Expr, perRule, global, section)
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: want a severity label and a summary", r.Alert)
			}
			if strings.Contains(r.Expr, "rule") && !strings.Contains(r.Annotations["summary"], "$labels.rule") {
				t.Errorf("%s: groups by rule but its summary does not name the rule", r.Alert)
			}
		}
	}
	want := map[string][]string{
		"CORSDenialSpike":          {"preflight_denied_origin", "preflight_denied_method", "preflight_denied_headers", "preflight_denied_private_network", "actual_denied"},
		"CORSReportOnlyDivergence": {"report_only_divergence"},
		"CORSCandidateDivergence":  {"candidate_would_deny", "candidate_would_allow"},
		"CORSOriginSourceStale":    {"cors_origin_source_.+_age_seconds"},
	}
	for alert, metrics := range want {
		for _, m := range metrics {
			if !slices.Contains(uses[alert], m) {
				t.Errorf("%s does not watch %s (it reads %v)", alert, m, uses[alert])
			}
		}
	}
	if _, ok := uses["CORSInternalFault"]; !ok {
		t.Error("no CORSInternalFault alert")
	}

	// The parser is not vacuous.
	data, err := os.ReadFile("monitoring/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ old, new string }{
		{"increase(cors_internal_fault[5m])", "increase(cors_internal_fault[5m)"},
		{"labels:", "label:"},
		{"{{ $labels.instance }}", "{{ $labels.instance }"},
	} {
		if _, errs := rulefmt.Parse([]byte(strings.Replace(string(data), bad.old, bad.new, 1)), false, model.UTF8Validation, promParser, slog.New(slog.DiscardHandler)); len(errs) == 0 {
			t.Errorf("alerts.yaml with %q for %q was accepted", bad.new, bad.old)
		}
	}
}

// TestRelabeling applies relabel.yaml with Prometheus's relabeling code to
// the names Envoy exports, and requires the labels the alerts and the
// dashboard group by: rule names with '-' and '_' in them, every outcome.
func TestRelabeling(t *testing.T) {
	perRule, _, _ := specMetrics(t)
	data, err := os.ReadFile("monitoring/relabel.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfgs []*relabel.Config
	if err := yamlv2.UnmarshalStrict(data, &cfgs); err != nil {
		t.Fatalf("relabel.yaml: %v", err)
	}
	for _, c := range cfgs {
		if err := c.Validate(model.UTF8Validation); err != nil {
			t.Fatalf("relabel.yaml: %v", err)
		}
	}
	outcomes := append(slices.Clone(perRule), "candidate_would_deny", "candidate_would_allow")
	// Prometheus names: '-' becomes '_' (docs/spec.md §4).
	for _, rule := range []string{"app-write", "public_read", "a", "not_cors", "x-actual", "preflight_denied"} {
		for _, o := range outcomes {
			name := "cors_" + strings.ReplaceAll(rule, "-", "_") + "_" + o
			lb := labels.NewBuilder(labels.FromStrings(model.MetricNameLabel, name, "instance", "gw:15090"))
			relabel.ProcessBuilder(lb, cfgs...)
			got := lb.Labels()
			if got.Get("rule") != strings.ReplaceAll(rule, "-", "_") || got.Get("outcome") != o || got.Get(model.MetricNameLabel) != name {
				t.Errorf("%s: relabeled to %v, want rule=%s outcome=%s and the name kept", name, got, strings.ReplaceAll(rule, "-", "_"), o)
			}
		}
	}
	for name, want := range map[string]map[string]string{
		"cors_internal_fault":                       {},
		"cors_unmatched":                            {},
		"cors_origin_source_partners_age_seconds":   {"source": "partners"},
		"cors_origin_source_b2b_eu_age_seconds":     {"source": "b2b_eu"},
		"envoy_cluster_upstream_rq_actual_denied_x": {},
	} {
		lb := labels.NewBuilder(labels.FromStrings(model.MetricNameLabel, name))
		relabel.ProcessBuilder(lb, cfgs...)
		got := lb.Labels()
		for _, l := range []string{"rule", "outcome", "source"} {
			if got.Get(l) != want[l] {
				t.Errorf("%s: %s=%q, want %q", name, l, got.Get(l), want[l])
			}
		}
	}
}

// grafanaDashboard is the part of Grafana's dashboard JSON model the test reads.
type grafanaDashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title   string                   `json:"title"`
		Type    string                   `json:"type"`
		GridPos struct{ X, Y, W, H int } `json:"gridPos"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestDashboard checks dashboard.json: valid JSON in Grafana's model, the
// panels the issue asks for, and every query parsed as PromQL (Grafana's
// variables replaced) over docs/spec.md's metrics.
func TestDashboard(t *testing.T) {
	perRule, global, section := specMetrics(t)
	data, err := os.ReadFile("monitoring/dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Error("dashboard.json: want a title and a uid")
	}
	vars := strings.NewReplacer("$__rate_interval", "5m", "$rule", ".+", "${datasource}", "prometheus")
	uses := map[string][]string{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %q has no size", p.Title)
		}
		for _, tg := range p.Targets {
			uses[p.Title] = append(uses[p.Title], checkQuery(t, "dashboard.json "+p.Title, vars.Replace(tg.Expr), perRule, global, section)...)
			if strings.Contains(tg.Expr, "__name__") && !strings.Contains(tg.Expr, `rule=~"$rule"`) && !strings.Contains(tg.Expr, "origin_source") {
				t.Errorf("panel %q: a per-rule query that ignores the rule variable: %s", p.Title, tg.Expr)
			}
		}
	}
	for title, want := range map[string][]string{
		"Outcomes by rule":  {"preflight_allowed", "preflight_denied_origin", "actual_allowed", "actual_denied", "not_cors", "same_origin", "off"},
		"Denials by reason": {"preflight_denied_origin", "preflight_denied_method", "preflight_denied_headers", "preflight_denied_private_network", "actual_denied"},
		"Preflight share":   {"preflight_allowed", "actual_allowed"},
	} {
		for _, m := range want {
			if !slices.Contains(uses[title], m) {
				t.Errorf("panel %q does not read %s (it reads %v)", title, m, uses[title])
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Name != "rule" {
			continue
		}
		q, _ := v.Query.(map[string]any)
		if s, _ := q["query"].(string); !strings.HasPrefix(s, "label_values(") {
			t.Errorf("the rule variable's query %v is not a label_values() over the counters", v.Query)
		} else {
			checkQuery(t, "dashboard.json variable rule", strings.TrimSuffix(strings.TrimPrefix(s, "label_values("), ", rule)"), perRule, global, section)
		}
	}
}
