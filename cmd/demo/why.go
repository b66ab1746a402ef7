package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// This file answers the demo page's question "why was this call blocked?".
// A page cannot see what the browser saw: for a blocked call fetch() only
// rejects with a TypeError. So the page server, on the page's own origin,
// sends the gateway what the browser sent (the preflight, or a GET or HEAD
// itself), and reports the status and CORS headers it got back, with the
// `corsctl explain` command that explains the decision, and what that
// command says.

// whyRequest is the call the page made, as fetch() was given it.
type whyRequest struct {
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Headers     map[string]string `json:"headers"`
	Credentials bool              `json:"credentials"`
}

// whyAnswer is what the page shows beside a blocked call.
type whyAnswer struct {
	// Sent is what went to the gateway: "OPTIONS /api/app/orders" for a
	// preflight, else the request itself.
	Sent      string      `json:"sent"`
	Preflight bool        `json:"preflight"`
	Request   [][2]string `json:"request"` // the CORS request headers sent
	Status    int         `json:"status"`
	Headers   [][2]string `json:"headers"` // the CORS headers and Vary of the answer
	// Command is the corsctl explain command line, ready to copy.
	Command string `json:"command"`
	// Rule, Verdict and Reason are what that command says; Detail names
	// the culprit. Empty when corsctl could not be run.
	Rule    string `json:"rule"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail"`
	Error   string `json:"error,omitempty"`
}

// explainer is the demo's explainer: where the gateway is, and the corsctl
// and configuration it runs.
type explainer struct {
	gateway string // http://127.0.0.1:8080
	corsctl string // "" when demo did not start the gateway
	config  string
	// run runs corsctl with args and returns its stdout.
	run    func(ctx context.Context, args []string) ([]byte, error)
	client *http.Client
}

func newExplainer(gateway, corsctl, config string) *explainer {
	return &explainer{
		gateway: gateway, corsctl: corsctl, config: config,
		run: func(ctx context.Context, args []string) ([]byte, error) {
			return exec.CommandContext(ctx, corsctl, args...).Output()
		},
		client: &http.Client{Timeout: 5 * time.Second},
	}
}

// ServeHTTP answers POST /why with a whyAnswer for the whyRequest in the
// body.
func (e *explainer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req whyRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil ||
		!isToken(req.Method) || !strings.HasPrefix(req.Path, "/") || strings.ContainsAny(req.Path, " \r\n") {
		http.Error(w, "want {\"method\",\"path\",\"headers\",\"credentials\"}", http.StatusBadRequest)
		return
	}
	// The page's origin, as the browser sent it on this same-origin POST.
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = "http://" + r.Host
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	ans := e.why(ctx, origin, &req)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(ans)
}

// why sends the gateway what the browser sent for the call, and explains
// it.
func (e *explainer) why(ctx context.Context, origin string, req *whyRequest) whyAnswer {
	unsafe := unsafeHeaders(req.Headers)
	ans := whyAnswer{Preflight: !safelistedMethod(req.Method) || len(unsafe) > 0}
	args := []string{"explain", e.config, "-origin", origin}
	probe := req.Method
	hs := [][2]string{{"Origin", origin}}
	if ans.Preflight {
		// What Chromium sends: the method, and the non-safelisted header
		// names, lower case, sorted, comma-separated.
		probe = http.MethodOptions
		hs = append(hs, [2]string{"Access-Control-Request-Method", req.Method})
		if len(unsafe) > 0 {
			hs = append(hs, [2]string{"Access-Control-Request-Headers", strings.Join(unsafe, ",")})
		}
		args = append(args, "-method", "OPTIONS")
		for _, h := range hs[1:] {
			args = append(args, "-header", h[0]+": "+h[1])
		}
	} else {
		args = append(args, "-method", req.Method)
		if req.Credentials {
			args = append(args, "-credentials")
		}
	}
	args = append(args, "-path", req.Path)
	ans.Sent, ans.Request = probe+" "+req.Path, hs
	ans.Command = shellCommand(append([]string{e.corsctlName()}, args...))

	switch probe {
	case http.MethodOptions, http.MethodGet, http.MethodHead:
		status, headers, err := e.send(ctx, probe, req.Path, hs)
		if err != nil {
			ans.Error = err.Error()
		}
		ans.Status, ans.Headers = status, headers
	default:
		// A simple POST changes data: it is not sent twice.
		ans.Error = "not sent again: a " + req.Method + " without preflight would reach the API a second time"
	}
	if e.corsctl != "" {
		if out, err := e.run(ctx, args); err == nil {
			ans.Rule, ans.Verdict, ans.Reason, ans.Detail = parseExplain(out)
		}
	}
	return ans
}

// send sends one request to the gateway and returns the status and the
// headers a CORS check reads.
func (e *explainer) send(ctx context.Context, method, path string, hs [][2]string) (int, [][2]string, error) {
	r, err := http.NewRequestWithContext(ctx, method, e.gateway+path, nil)
	if err != nil {
		return 0, nil, err
	}
	for _, h := range hs {
		r.Header.Set(h[0], h[1])
	}
	resp, err := e.client.Do(r)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	var out [][2]string
	for _, name := range slices.Sorted(maps.Keys(resp.Header)) {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "access-control-") || lower == "vary" || lower == "x-cors-debug" {
			for _, v := range resp.Header[name] {
				out = append(out, [2]string{lower, v})
			}
		}
	}
	return resp.StatusCode, out, nil
}

// corsctlName is corsctl as the command shows it.
func (e *explainer) corsctlName() string {
	if e.corsctl == "" {
		return "build/corsctl"
	}
	return e.corsctl
}

// parseExplain picks what explain's output says about the decision: the
// rule, the verdict, the reason and the line that names the culprit.
func parseExplain(out []byte) (rule, verdict, reason, detail string) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	inReason := false
	for sc.Scan() {
		line := sc.Text()
		key, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		switch {
		case key == "rule":
			rule = value
		case key == "verdict":
			verdict = value
		case key == "reason":
			reason, inReason = value, true
			continue
		case inReason && strings.HasPrefix(line, "           "):
			detail = strings.TrimSpace(line)
		}
		inReason = false
	}
	return rule, verdict, reason, detail
}

// safelistedMethod reports whether a method needs no preflight (Fetch's
// CORS-safelisted methods).
func safelistedMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodPost
}

// unsafeHeaders returns the names of the request headers that make fetch()
// send a preflight, as the browser lists them in
// Access-Control-Request-Headers: lower case and sorted. (Fetch's
// CORS-safelisted request headers, without the length limits the demo's
// calls never reach.)
func unsafeHeaders(headers map[string]string) []string {
	var names []string
	for name, value := range headers {
		lower := strings.ToLower(name)
		switch lower {
		case "accept", "accept-language", "content-language":
			continue
		case "content-type":
			essence, _, _ := strings.Cut(strings.ToLower(value), ";")
			switch strings.TrimSpace(essence) {
			case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
				continue
			}
		}
		names = append(names, lower)
	}
	slices.Sort(names)
	return names
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// shellCommand joins args into a command line for a POSIX shell, quoting
// what needs it.
func shellCommand(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@+") == "" {
			quoted[i] = a
		} else {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}
