package browser_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Time limits. The whole test is bounded by testTimeout; each fetch, each
// navigation and the gateway's start by the shorter ones.
const (
	testTimeout   = 50 * time.Second
	startTimeout  = 20 * time.Second
	actionTimeout = 10 * time.Second
	// corsEventWait is how long to wait for Chromium's DevTools report of
	// why it blocked a fetch, which may arrive just after the page sees the
	// TypeError.
	corsEventWait = 3 * time.Second
)

// requireOrSkip skips the test for the reason why, or fails it when one of
// the named environment variables is 1.
func requireOrSkip(t *testing.T, why string, vars ...string) {
	t.Helper()
	for _, v := range vars {
		if os.Getenv(v) == "1" {
			t.Fatalf("%s=1: %s", v, why)
		}
	}
	t.Skip(why)
}

// findChromium returns the Chromium binary: CORS_CHROMIUM, or the first of
// the usual names on PATH; "" when there is none.
func findChromium() string {
	names := []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"}
	if p := os.Getenv("CORS_CHROMIUM"); p != "" {
		names = []string{p}
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// repoRoot returns the directory holding go.mod, above the working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// syncBuffer is a bytes buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// seen is one request as the upstream received it.
type seen struct {
	Method, Path, Origin, Cookie, Custom, Authorization, Body string
}

// upstream is the API behind the gateway. It records every request and
// answers JSON, with an exposed-by-policy X-Request-Id and a never-exposed
// X-Secret. Some paths behave specially:
//
//	/strip/...     a permissive upstream: ACAO *, ACAC true, ACEH X-Secret
//	/auth/...      401 with WWW-Authenticate, standing in for a later auth filter
//	/creds/login   sets the cookie sid
type upstream struct {
	mu   sync.Mutex
	reqs []seen
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	s := seen{
		Method: r.Method, Path: r.URL.Path, Origin: r.Header.Get("Origin"), Cookie: r.Header.Get("Cookie"),
		Custom: r.Header.Get("X-Custom"), Authorization: r.Header.Get("Authorization"), Body: string(body),
	}
	u.mu.Lock()
	u.reqs = append(u.reqs, s)
	n := len(u.reqs)
	u.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Request-Id", fmt.Sprintf("req-%d", n))
	h.Set("X-Secret", "never-exposed")
	status := http.StatusOK
	reply := map[string]string{"method": s.Method, "path": s.Path, "body": s.Body, "cookie": s.Cookie}
	switch {
	case strings.HasPrefix(r.URL.Path, "/strip/"):
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "X-Secret")
	case strings.HasPrefix(r.URL.Path, "/auth/"):
		h.Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
		status = http.StatusUnauthorized
		reply["error"] = "unauthorized"
	case r.URL.Path == "/creds/login":
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3cret", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(reply)
}

// requests returns the requests seen with the method on the exact path.
func (u *upstream) requests(method, path string) []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []seen
	for _, s := range u.reqs {
		if s.Method == method && s.Path == path {
			out = append(out, s)
		}
	}
	return out
}

// startGateway runs `corsctl serve` with the config in front of upstreamURL
// on a free loopback port until the test ends, and returns its base URL
// (http://127.0.0.1:PORT).
func startGateway(t *testing.T, ctx context.Context, corsctl, wasm, config, upstreamURL string) string {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "cors.json")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	gwCtx, stop := context.WithCancel(ctx)
	cmd := exec.CommandContext(gwCtx, corsctl, "serve", "-config", cfgPath, "-upstream", upstreamURL,
		"-listen", "127.0.0.1:0", "-wasm", wasm, "-workers", "2", "-log-level", "warn")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s serve: %v", corsctl, err)
	}
	stopped := false
	t.Cleanup(func() {
		if stopped {
			return
		}
		stop()
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("corsctl serve exited with %d on SIGINT; stderr:\n%s", code, stderr.String())
		}
	})

	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "corsctl: serving on "); ok {
				addrc <- strings.Fields(rest)[0]
			}
		}
		close(addrc)
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case addr, ok := <-addrc:
		if !ok {
			stopped = true
			stop()
			cmd.Wait()
			t.Fatalf("corsctl serve exited before serving (%v); stderr:\n%s", cmd.ProcessState, stderr.String())
		}
		return addr
	case <-timer.C:
		t.Fatalf("corsctl serve did not print its \"serving on\" line within %v; stderr:\n%s", startTimeout, stderr.String())
	case <-ctx.Done():
		t.Fatalf("corsctl serve: %v; stderr:\n%s", ctx.Err(), stderr.String())
	}
	return ""
}

// page serves a blank HTML page: its origin is the origin of every fetch()
// that a tab on it runs.
func page(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><meta charset=utf-8><title>cors conformance page</title><p>fetch() runs here.</p>\n")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// startBrowser starts headless Chromium at path, for as long as ctx lives
// or the test runs, and returns a context holding it.
func startBrowser(t *testing.T, ctx context.Context, path string) context.Context {
	t.Helper()
	var output syncBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoSandbox, // the test machine runs as root
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&output),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		chromedp.Cancel(closeCtx) // graceful close; cancelAlloc below kills what is left
		cancelBrowser()
		cancelAlloc()
	})
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(browserCtx) }() // the first Run starts the browser; it must not carry a timeout
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("start %s: %v; output:\n%s", path, err, output.String())
		}
	case <-startCtx.Done():
		t.Fatalf("start %s: no browser within %v; output:\n%s", path, startTimeout, output.String())
	}
	return browserCtx
}

// tab is a browser tab showing a page of one origin, with the DevTools
// network events of its fetches.
type tab struct {
	ctx    context.Context
	origin string
	net    *netLog
}

// openTab opens a tab on the page at origin.
func openTab(t *testing.T, browserCtx context.Context, origin string) *tab {
	t.Helper()
	nl := newNetLog()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithListener(nl.listen))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab, without a timeout
		t.Fatalf("open tab: %v", err)
	}
	navCtx, cancelNav := context.WithTimeout(ctx, actionTimeout)
	defer cancelNav()
	if err := chromedp.Do(navCtx, chromedp.Navigate(origin+"/")); err != nil {
		t.Fatalf("navigate to %s: %v", origin, err)
	}
	return &tab{ctx: ctx, origin: origin, net: nl}
}

// netLog collects what DevTools reports about a tab's requests: their URLs,
// the raw responses and the CORS errors.
type netLog struct {
	mu        sync.Mutex
	urls      map[network.RequestID]string
	corsErrs  map[network.RequestID][]string
	responses map[network.RequestID][]string
}

func newNetLog() *netLog {
	return &netLog{
		urls:      map[network.RequestID]string{},
		corsErrs:  map[network.RequestID][]string{},
		responses: map[network.RequestID][]string{},
	}
}

// listen runs on chromedp's reader goroutine: it only records.
func (n *netLog) listen(ev any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		n.urls[e.RequestID] = e.Request.Method + " " + e.Request.URL
	case *network.EventLoadingFailed:
		if e.CorsErrorStatus != nil {
			s := string(e.CorsErrorStatus.CorsError)
			if e.CorsErrorStatus.FailedParameter != "" {
				s += "(" + e.CorsErrorStatus.FailedParameter + ")"
			}
			n.corsErrs[e.RequestID] = append(n.corsErrs[e.RequestID], s)
		}
	case *network.EventResponseReceivedExtraInfo:
		names := make([]string, 0, len(e.Headers))
		for name := range e.Headers {
			names = append(names, name)
		}
		sort.Strings(names)
		var b strings.Builder
		fmt.Fprintf(&b, "%d", e.StatusCode)
		for _, name := range names {
			fmt.Fprintf(&b, " | %s: %v", name, e.Headers[name])
		}
		n.responses[e.RequestID] = append(n.responses[e.RequestID], b.String())
	}
}

// ids returns the request IDs of the URL, preflights included: DevTools
// reports a preflight as a request of its own, with method OPTIONS.
func (n *netLog) ids(url string) []network.RequestID {
	var out []network.RequestID
	for id, u := range n.urls {
		if strings.HasSuffix(u, " "+url) {
			out = append(out, id)
		}
	}
	return out
}

// corsErrors returns the CORS errors that DevTools reported for the URL.
func (n *netLog) corsErrors(url string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, id := range n.ids(url) {
		out = append(out, n.corsErrs[id]...)
	}
	return out
}

// describe lists what the browser sent and received for the URL, for
// failure messages.
func (n *netLog) describe(url string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var lines []string
	for _, id := range n.ids(url) {
		u := n.urls[id]
		for _, r := range n.responses[id] {
			lines = append(lines, fmt.Sprintf("%s <- %s", u, r))
		}
		for _, c := range n.corsErrs[id] {
			lines = append(lines, fmt.Sprintf("%s: CORS error %s", u, c))
		}
	}
	sort.Strings(lines) // OPTIONS after the actual request's method, errors after responses
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("\n    " + l)
	}
	if b.Len() == 0 {
		return "\n    (no DevTools network events)"
	}
	return b.String()
}

// fetchResult is what fetch() gave the page.
type fetchResult struct {
	OK      bool               `json:"ok"`
	Status  int                `json:"status"`
	Body    string             `json:"body"`
	Headers map[string]*string `json:"headers"` // response.headers.get(name); nil = not readable
	Error   string             `json:"error"`   // "<name>: <message>" when fetch() rejected

	url  string
	cors []string // Chromium's CORS error codes for the URL, when blocked
	tab  *tab
}

// blocked reports whether fetch() rejected the way CORS blocks do.
func (r fetchResult) blocked() bool { return r.Error == "TypeError: Failed to fetch" }

// header returns the readable header value, or "<unreadable>".
func (r fetchResult) header(name string) string {
	if v := r.Headers[name]; v != nil {
		return *v
	}
	return "<unreadable>"
}

// String describes the result with what DevTools saw, for failure messages.
func (r fetchResult) String() string {
	var hs []string
	for _, name := range slices.Sorted(maps.Keys(r.Headers)) {
		hs = append(hs, name+"="+r.header(name))
	}
	return fmt.Sprintf("fetch(%s) from %s: ok=%v status=%d error=%q headers[%s] body=%q; Chromium CORS errors %v; DevTools:%s",
		r.url, r.tab.origin, r.OK, r.Status, r.Error, strings.Join(hs, " "), r.Body, r.cors, r.tab.net.describe(r.url))
}

// fetchScript runs fetch(url, init) in the page and reports the outcome, the
// readable values of the named headers and the body, or the error.
const fetchScript = `(async (url, init, names) => {
  try {
    const r = await fetch(url, init);
    const headers = {};
    for (const n of names) headers[n] = r.headers.get(n);
    return {ok: r.ok, status: r.status, body: await r.text(), headers, error: ""};
  } catch (e) {
    return {ok: false, status: 0, body: "", headers: {}, error: e.name + ": " + e.message};
  }
})(%s, %s, %s)`

// fetch runs fetch(url, init) in the tab's page. init is a JSON object of
// fetch options; names are the response headers to try to read. When
// fetch() rejects, fetch waits briefly for DevTools' CORS error report.
func (tb *tab) fetch(t *testing.T, url string, init map[string]any, names ...string) fetchResult {
	t.Helper()
	if init == nil {
		init = map[string]any{}
	}
	if names == nil {
		names = []string{}
	}
	init["cache"] = "no-store"
	args := make([]any, 0, 3)
	for _, v := range []any{url, init, names} {
		args = append(args, mustJSON(t, v))
	}
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.Evaluate[fetchResult](fmt.Sprintf(fetchScript, args...), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch(%s) from %s: %v", url, tb.origin, err)
	}
	res.url, res.tab = url, tb
	if res.Error != "" {
		deadline := time.Now().Add(corsEventWait)
		for res.cors = tb.net.corsErrors(url); len(res.cors) == 0 && time.Now().Before(deadline); res.cors = tb.net.corsErrors(url) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return res
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// requireBrowserAndBuild finds Chromium and the built cors.wasm and
// corsctl, skipping (or failing, under CORS_REQUIRE_*) when one is missing.
func requireBrowserAndBuild(t *testing.T) (chromium, root, wasm, corsctl string) {
	t.Helper()
	chromium = findChromium()
	if chromium == "" {
		requireOrSkip(t, "no chromium binary found: install it with `apt-get install -y chromium` (or set CORS_CHROMIUM)", "CORS_REQUIRE_BROWSER")
	}
	root = repoRoot(t)
	wasm, corsctl = filepath.Join(root, "build", "cors.wasm"), filepath.Join(root, "build", "corsctl")
	for _, f := range []string{wasm, corsctl} {
		if _, err := os.Stat(f); err != nil {
			requireOrSkip(t, fmt.Sprintf("build/%s is missing: run `make build`", filepath.Base(f)), "CORS_REQUIRE_WASM", "CORS_REQUIRE_BROWSER")
		}
	}
	return chromium, root, wasm, corsctl
}
