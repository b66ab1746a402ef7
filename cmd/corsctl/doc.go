package main

import (
	"flag"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/corsfilter/corsfilter/policy"
)

func init() {
	commands["doc"] = command{
		summary: "write a page for frontend and partner developers: who may call what, and how to debug a blocked call",
		run:     runDoc,
	}
}

// docRule is one rule as the page tells it, in words, without the
// configuration's keys.
type docRule struct {
	Name, Description string
	Where             string   // which hosts and paths
	Who               []string // which origins, one phrase each
	WhoNote           string
	Methods           string
	Headers           string
	Exposed           string
	Credentials       string
	Cache             string
	Notes             []string
	Explain           string // the corsctl explain command that debugs a call
}

type docPage struct {
	Title, Version, Description string
	Rules                       []docRule
	Hidden                      int // internal rules left out
	PolicyFile                  string
}

func runDoc(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "markdown", "the page's `format`: markdown or html")
	title := fs.String("title", "Calling our APIs from a browser", "the page's title")
	configFlag := fs.String("config", "", "the plugin configuration `file`, if not given as an argument")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: corsctl doc POLICY [-format markdown|html] [-title T]")
		fmt.Fprintln(w, "Write a page for frontend and partner developers: for each rule, which origins may call")
		fmt.Fprintln(w, "which hosts and paths, with which methods and headers, whether credentials are allowed,")
		fmt.Fprintln(w, "the preflight cache time, and how to debug a blocked call. Rules marked internal are left out.")
		fs.PrintDefaults()
	}
	pos, code, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	path, ok := configArg(fs, pos, *configFlag, stderr)
	if !ok {
		return 2
	}
	if *format != "markdown" && *format != "html" {
		fmt.Fprintf(stderr, "corsctl doc: -format %q: want markdown or html\n", *format)
		return 2
	}
	p, code := loadPolicyFile(path, stdin, stderr)
	if p == nil {
		return code
	}
	page := buildDoc(p, *title, path)
	if *format == "html" {
		if err := docHTML.Execute(stdout, page); err != nil {
			fmt.Fprintf(stderr, "corsctl doc: %v\n", err)
			return 1
		}
		return 0
	}
	writeDocMarkdown(stdout, page)
	return 0
}

func buildDoc(p *policy.Policy, title, path string) docPage {
	page := docPage{Title: title, Version: p.Version(), Description: p.Description(), PolicyFile: path}
	for _, r := range p.Describe() {
		if r.Internal {
			page.Hidden++
			continue
		}
		page.Rules = append(page.Rules, describeRule(&r, path))
	}
	return page
}

func describeRule(r *policy.RuleDescription, path string) docRule {
	d := docRule{Name: r.Name, Description: r.Description, Where: whereText(&r.Match)}
	for _, o := range r.Origins {
		d.Who = append(d.Who, originText(o, r.Credentials))
	}
	for _, re := range r.OriginRegexes {
		d.Who = append(d.Who, "any origin that matches the regular expression "+code(re))
	}
	if len(d.Who) == 0 {
		d.WhoNote = "No website: browsers cannot call these endpoints from another origin. Call them from your own servers instead."
	}

	switch {
	case slices.Contains(r.Methods, "*"):
		d.Methods = "any method"
	case len(r.Methods) == 0:
		d.Methods = "GET, HEAD and POST only"
	default:
		d.Methods = "GET, HEAD and POST, and " + join(r.Methods)
	}
	const safelisted = "the headers browsers always allow (Accept, Accept-Language, Content-Language, and Content-Type with a form or text value)"
	switch {
	case slices.Contains(r.RequestHeaders, "*") && slices.Contains(r.RequestHeaders, "authorization"):
		d.Headers = "any header"
	case slices.Contains(r.RequestHeaders, "*"):
		d.Headers = "any header except Authorization"
	case len(r.RequestHeaders) == 0:
		d.Headers = "only " + safelisted
	default:
		d.Headers = safelisted + ", and " + join(r.RequestHeaders)
	}
	const readable = "the response headers browsers always expose (Cache-Control, Content-Language, Content-Length, Content-Type, Expires, Last-Modified, Pragma)"
	switch {
	case slices.Contains(r.ExposedHeaders, "*"):
		d.Exposed = "every response header (except Set-Cookie)"
	case len(r.ExposedHeaders) == 0:
		d.Exposed = "only " + readable
	default:
		d.Exposed = readable + ", and " + join(r.ExposedHeaders)
	}
	if r.Credentials {
		d.Credentials = "Yes: send cookies or HTTP authentication with `fetch(url, {credentials: \"include\"})` (or `xhr.withCredentials = true`)."
	} else {
		d.Credentials = "No: send calls without cookies or HTTP authentication (`fetch`'s default, `credentials: \"same-origin\"`); with `credentials: \"include\"` the browser blocks the response."
	}
	switch {
	case r.MaxAge < 0:
		d.Cache = "not set: browsers ask again after 5 seconds"
	case r.MaxAge == 0:
		d.Cache = "none: browsers ask before every call that needs it"
	default:
		d.Cache = durationText(r.MaxAge)
		if r.MaxAge > 7200 {
			d.Cache += " (Chromium-based browsers keep it 2 hours at most)"
		}
	}
	d.Cache = "Browsers cache the answer to a preflight (the OPTIONS request they send before a call with another method or custom headers): " + d.Cache + "."
	switch r.Mode {
	case "report_only":
		d.Notes = append(d.Notes, "Not enforced yet: calls this page says are blocked still get through, and are only logged. Fix them before the rule is enforced.")
	case "off":
		d.Notes = append(d.Notes, "The gateway does not handle CORS for these endpoints: the service behind it answers on its own.")
	}
	if r.PrivateNetwork {
		d.Notes = append(d.Notes, "Pages on public websites may call these endpoints on a private network (Private Network Access preflights are answered).")
	}
	if r.RejectDisallowedOrigins {
		d.Notes = append(d.Notes, "A call from a website not listed above is refused with 403 before it reaches the service.")
	}
	if r.Debug {
		d.Notes = append(d.Notes, "A refused preflight carries an `x-cors-debug` response header that says why.")
	}
	d.Explain = explainCommand(r, path)
	return d
}

// whereText says which requests a rule governs, in words.
func whereText(m *policy.MatchDescription) string {
	if m.CatchAll() {
		return "every host and path not covered by a rule above"
	}
	var parts []string
	if len(m.Hosts) > 0 {
		parts = append(parts, "on "+join(m.Hosts))
	} else {
		parts = append(parts, "on every host")
	}
	var paths []string
	for _, p := range m.Paths {
		paths = append(paths, "exactly "+code(p))
	}
	for _, p := range m.PathPrefixes {
		paths = append(paths, "starting with "+code(p))
	}
	for _, p := range m.PathRegexes {
		paths = append(paths, "matching the regular expression "+code(p))
	}
	if len(paths) > 0 {
		parts = append(parts, "for paths "+strings.Join(paths, " or "))
	}
	if len(m.RouteNames) > 0 {
		parts = append(parts, "on the gateway routes "+join(m.RouteNames))
	}
	if len(m.Methods) > 0 {
		parts = append(parts, "for "+join(m.Methods)+" calls")
	}
	return strings.Join(parts, ", ")
}

// originText says which pages an origin entry admits.
func originText(o string, credentials bool) string {
	switch o {
	case "*":
		return "any website"
	case "null":
		return "sandboxed pages and local files (the origin `null`)"
	}
	scheme, host, port := splitOrigin(o)
	var s string
	if base, ok := strings.CutPrefix(host, "*."); ok {
		s = "any subdomain of " + base + " (not " + base + " itself), over " + scheme
	} else {
		s = code(scheme + "://" + host)
	}
	switch port {
	case "":
	case "*":
		s += ", on any port"
	default:
		if strings.HasPrefix(host, "*.") {
			s += ", on port " + port
		} else {
			s = code(o)
		}
	}
	return s
}

// explainCommand is the corsctl explain command line that shows what the
// gateway does with a call this rule governs.
func explainCommand(r *policy.RuleDescription, path string) string {
	origin := "https://your-site.example"
	for _, o := range r.Origins {
		if o != "*" && o != "null" && !strings.Contains(o, "*") {
			origin = o
			break
		}
	}
	method := "GET"
	for _, m := range r.Methods {
		if m != "*" {
			method = m
			break
		}
	}
	host, p := "api.example.com", "/"
	if len(r.Match.Hosts) > 0 && !strings.HasPrefix(r.Match.Hosts[0], "*") {
		host = r.Match.Hosts[0]
	}
	switch {
	case len(r.Match.Paths) > 0:
		p = r.Match.Paths[0]
	case len(r.Match.PathPrefixes) > 0:
		p = r.Match.PathPrefixes[0]
	}
	cmd := "corsctl explain " + path + " -origin " + origin + " -authority " + host + " -path " + p
	if method == "GET" {
		return cmd + " -method GET"
	}
	return cmd + " -method OPTIONS -header 'Access-Control-Request-Method: " + method + "'"
}

func durationText(s int) string {
	switch {
	case s%3600 == 0:
		return strconv.Itoa(s/3600) + " " + pluralize(s/3600, "hour", "hours")
	case s%60 == 0:
		return strconv.Itoa(s/60) + " " + pluralize(s/60, "minute", "minutes")
	}
	return strconv.Itoa(s) + " " + pluralize(s, "second", "seconds")
}

// join lists names in code spans: "`a`, `b` and `c`".
func join(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = code(n)
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " and " + quoted[len(quoted)-1]
}

// code writes s as a Markdown code span, whatever backticks it holds.
func code(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

const debugSteps = "If the browser blocks a call:\n\n" +
	"1. Open the browser's developer console: its message names the missing or refused header " +
	"(\"has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header\", \"Method PUT is not allowed\", \"Request header field x-foo is not allowed\").\n" +
	"2. Compare the call with the rule above: the page's origin (scheme, host and port), the method, every header the script sets, and whether it sends credentials.\n" +
	"3. Ask the gateway's owners to run the command below with your call's values: it names the rule, the verdict, the reason, and the exact response headers.\n" +
	"4. Give them the time of the call and its URL; the gateway counts and logs every refusal by rule and reason."

func writeDocMarkdown(w io.Writer, page docPage) {
	fmt.Fprintf(w, "# %s\n\n", page.Title)
	if page.Version != "" {
		fmt.Fprintf(w, "Policy version %s.\n\n", code(page.Version))
	}
	if page.Description != "" {
		fmt.Fprintf(w, "%s\n\n", page.Description)
	}
	fmt.Fprintln(w, "Browsers let a page read a response from another origin (scheme, host and port) only when the API says so, with CORS headers.")
	fmt.Fprintln(w, "This page says, for each group of endpoints, which websites may call them and how. The gateway applies the first group a call belongs to.")
	fmt.Fprintln(w)
	for _, r := range page.Rules {
		fmt.Fprintf(w, "## %s\n\n", r.Name)
		if r.Description != "" {
			fmt.Fprintf(w, "%s\n\n", r.Description)
		}
		fmt.Fprintf(w, "- **Endpoints:** %s.\n", r.Where)
		if len(r.Who) > 0 {
			fmt.Fprintln(w, "- **Websites that may call them:**")
			for _, o := range r.Who {
				fmt.Fprintf(w, "  - %s\n", o)
			}
		} else {
			fmt.Fprintf(w, "- **Websites that may call them:** %s\n", r.WhoNote)
			for _, n := range r.Notes {
				fmt.Fprintf(w, "- %s\n", n)
			}
			fmt.Fprintln(w)
			continue
		}
		fmt.Fprintf(w, "- **Methods:** %s.\n", r.Methods)
		fmt.Fprintf(w, "- **Request headers your script may set:** %s.\n", r.Headers)
		fmt.Fprintf(w, "- **Response headers your script may read:** %s.\n", r.Exposed)
		fmt.Fprintf(w, "- **Credentials (cookies, HTTP authentication):** %s\n", r.Credentials)
		fmt.Fprintf(w, "- **Preflight cache:** %s\n", r.Cache)
		for _, n := range r.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
		fmt.Fprintf(w, "\n%s\n\n```sh\n%s\n```\n\n", debugSteps, r.Explain)
	}
	fmt.Fprintln(w, "## Everything else")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A call that no group above covers is left to the service behind the gateway, which answers CORS on its own.")
}

// docHTML renders the same page as HTML; html/template escapes every value.
var docHTML = template.Must(template.New("doc").Funcs(template.FuncMap{
	"md": mdToHTML,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;line-height:1.5}code,pre{background:#f4f4f4;padding:0 .2em}pre{padding:.5em;overflow-x:auto}dt{font-weight:bold}</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Version}}<p>Policy version <code>{{.Version}}</code>.</p>{{end}}
{{if .Description}}<p>{{.Description}}</p>{{end}}
<p>Browsers let a page read a response from another origin (scheme, host and port) only when the API says so, with CORS headers.
This page says, for each group of endpoints, which websites may call them and how. The gateway applies the first group a call belongs to.</p>
{{range .Rules}}
<section id="rule-{{.Name}}">
<h2>{{.Name}}</h2>
{{if .Description}}<p>{{.Description}}</p>{{end}}
<dl>
<dt>Endpoints</dt><dd>{{md .Where}}.</dd>
<dt>Websites that may call them</dt><dd>{{if .Who}}<ul>{{range .Who}}<li>{{md .}}</li>{{end}}</ul>{{else}}{{.WhoNote}}{{end}}</dd>
{{if .Who}}<dt>Methods</dt><dd>{{md .Methods}}.</dd>
<dt>Request headers your script may set</dt><dd>{{md .Headers}}.</dd>
<dt>Response headers your script may read</dt><dd>{{md .Exposed}}.</dd>
<dt>Credentials (cookies, HTTP authentication)</dt><dd>{{md .Credentials}}</dd>
<dt>Preflight cache</dt><dd>{{md .Cache}}</dd>{{end}}
{{range .Notes}}<dt>Note</dt><dd>{{md .}}</dd>{{end}}
</dl>
{{if .Who}}<h3>If the browser blocks a call</h3>
<ol>
<li>Open the browser's developer console: its message names the missing or refused header.</li>
<li>Compare the call with the rule above: the page's origin (scheme, host and port), the method, every header the script sets, and whether it sends credentials.</li>
<li>Ask the gateway's owners to run this command with your call's values: it names the rule, the verdict, the reason, and the exact response headers.
<pre><code>{{.Explain}}</code></pre></li>
<li>Give them the time of the call and its URL; the gateway counts and logs every refusal by rule and reason.</li>
</ol>{{end}}
</section>
{{end}}
<h2>Everything else</h2>
<p>A call that no group above covers is left to the service behind the gateway, which answers CORS on its own.</p>
</body>
</html>
`))

// mdToHTML renders the one Markdown construct the page's phrases use, code
// spans, escaping everything else.
func mdToHTML(s string) template.HTML {
	var b strings.Builder
	for s != "" {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			b.WriteString(template.HTMLEscapeString(s))
			break
		}
		b.WriteString(template.HTMLEscapeString(s[:i]))
		s = s[i:]
		n := len(s) - len(strings.TrimLeft(s, "`"))
		fence := s[:n]
		end := strings.Index(s[n:], fence)
		if end < 0 {
			b.WriteString(template.HTMLEscapeString(s))
			break
		}
		inner := strings.TrimSpace(s[n : n+end])
		b.WriteString("<code>" + template.HTMLEscapeString(inner) + "</code>")
		s = s[n+end+n:]
	}
	return template.HTML(b.String())
}
