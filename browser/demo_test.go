package browser_test

import (
	"bufio"
	"context"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// demoRow is what the demo page shows for one call.
type demoRow struct {
	Class  string `json:"cls"`    // "result ok", "result readable" or "result blocked"
	Result string `json:"result"` // the result cell's text
	Why    string `json:"why"`    // the why cell's text
}

// demoState reads every row of the demo page, the widths of its columns
// and whether it has a viewport meta tag.
const demoState = `(() => {
  const rows = {};
  for (const b of document.querySelectorAll("button[data-call]")) {
    const id = b.dataset.call, r = document.getElementById(id), w = document.getElementById(id + "-why");
    rows[id] = {cls: r.className, result: r.innerText, why: w.innerText};
  }
  const widths = [...document.querySelectorAll("thead th")].map(th => th.getBoundingClientRect().width);
  const viewport = document.querySelector('meta[name="viewport"]');
  return {rows, widths, viewport: viewport ? viewport.content : ""};
})()`

type demoPage struct {
	Rows     map[string]demoRow `json:"rows"`
	Widths   []float64          `json:"widths"`
	Viewport string             `json:"viewport"`
}

// TestDemoPage runs the demo (make run's page, API and gateway, with the
// real corsctl and cors.wasm), clicks "run all" in headless Chromium, and
// checks what a visitor sees: each call's result, the reason beside each
// blocked call, the exposed header beside the hidden one, and columns that
// keep their width. With CORS_DEMO_SCREENSHOT=file.png it saves a
// screenshot of the page.
func TestDemoPage(t *testing.T) {
	chromium, root, wasm, corsctl := requireBrowserAndBuild(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)

	demo := filepath.Join(t.TempDir(), "demo")
	build := exec.CommandContext(ctx, "go", "build", "-o", demo, "./cmd/demo")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/demo: %v\n%s", err, out)
	}
	port := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		_, p, _ := net.SplitHostPort(ln.Addr().String())
		return p
	}
	pagePort := port()
	cmd := exec.CommandContext(ctx, demo, "-corsctl", corsctl, "-wasm", wasm, "-config", filepath.Join("examples", "demo", "cors.json"),
		"-listen", "127.0.0.1:"+port(), "-upstream-listen", "127.0.0.1:"+port(), "-page-listen", "localhost:"+pagePort)
	cmd.Dir = root
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stdout syncBuffer
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			stdout.Write([]byte(sc.Text() + "\n"))
			if strings.Contains(sc.Text(), "Ctrl-C stops everything") {
				close(ready)
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	select {
	case <-ready:
	case <-time.After(startTimeout):
		t.Fatalf("the demo did not start\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}

	browserCtx := startBrowser(t, ctx, chromium)
	tb := openTab(t, browserCtx, "http://localhost:"+pagePort)
	read := func() demoPage {
		t.Helper()
		rctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
		defer cancel()
		p, err := chromedp.Run(rctx, chromedp.Evaluate[demoPage](demoState))
		if err != nil {
			t.Fatalf("read the demo page: %v", err)
		}
		return p
	}
	vctx, cancelViewport := context.WithTimeout(tb.ctx, actionTimeout)
	if err := chromedp.Do(vctx, chromedp.EmulateViewport(1400, 1000)); err != nil {
		t.Fatalf("set the viewport: %v", err)
	}
	cancelViewport()
	before := read()
	if !strings.Contains(before.Viewport, "width=device-width") {
		t.Errorf("viewport meta tag: %q; want width=device-width", before.Viewport)
	}
	cctx, cancelClick := context.WithTimeout(tb.ctx, actionTimeout)
	if err := chromedp.Do(cctx, chromedp.Click(chromedp.ID("all"))); err != nil {
		t.Fatalf("click run all: %v", err)
	}
	cancelClick()

	// "run all" sends the calls one after the other; a blocked call is
	// done when its reason has arrived.
	var after demoPage
	for deadline := time.Now().Add(60 * time.Second); ; {
		after = read()
		done := len(after.Rows) > 0
		for _, r := range after.Rows {
			if r.Result == "" || r.Result == "…" || strings.Contains(r.Class, "blocked") && !strings.Contains(r.Why, "explain") {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not finish: %+v\ndemo stderr:\n%s", after.Rows, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if path := os.Getenv("CORS_DEMO_SCREENSHOT"); path != "" {
		sctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
		if png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)); err != nil {
			t.Errorf("screenshot: %v", err)
		} else if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Error(err)
		} else {
			t.Logf("screenshot: %s", path)
		}
		cancel()
	}

	if len(before.Widths) != 4 || len(after.Widths) != 4 {
		t.Fatalf("columns: %v then %v; want 4", before.Widths, after.Widths)
	}
	for i := range before.Widths {
		if math.Abs(before.Widths[i]-after.Widths[i]) > 0.5 {
			t.Errorf("column widths moved with the results: %v, then %v", before.Widths, after.Widths)
			break
		}
	}
	page := "http://localhost:" + pagePort
	tests := []struct {
		id, class string
		result    []string // substrings of the result cell
		why       []string // substrings of the why cell
	}{
		{id: "public", class: "ok", result: []string{"ok 200", "X-Request-Id:\nnull: hidden", "X-Internal-Trace:\nnull: hidden"}},
		{id: "simplepost", class: "readable", result: []string{"readable error 405", "not a success"}},
		{id: "signin", class: "ok", result: []string{"ok 200", `"signed_in":true`}},
		{id: "nocookie", class: "readable", result: []string{"readable error 401 Unauthorized", "not a success", "sign in first",
			"X-Request-Id:\nreq-", "(exposed)", "X-Internal-Trace:\nnull: hidden"}},
		{id: "order", class: "ok", result: []string{"ok 201 Created", "X-Request-Id:\nreq-", "(exposed)", "X-Internal-Trace:\nnull: hidden"}},
		{id: "admin", class: "blocked", result: []string{"blocked by CORS", "TypeError"}, why: []string{
			"the request GET /admin/users got 403", "vary: Origin", "no access-control-allow-origin: the browser blocks it",
			"origin not allowed (actual_denied)", `origin "` + page + `" is not allowed: rule "admin" allows no origin`,
			corsctl + " explain ", " -origin " + page + " -method GET -path /admin/users"}},
		{id: "badheader", class: "blocked", result: []string{"blocked by CORS"}, why: []string{
			"the preflight OPTIONS /api/app/orders got 403", "no access-control-allow-origin",
			`header "x-debug" is not allowed: rule "app-write" allows content-type, x-csrf-token`,
			"-method OPTIONS -header 'Access-Control-Request-Method: POST' -header 'Access-Control-Request-Headers: content-type,x-csrf-token,x-debug' -path /api/app/orders"}},
		{id: "badmethod", class: "blocked", result: []string{"blocked by CORS"}, why: []string{
			"the preflight OPTIONS /api/public/items/1 got 403",
			`method "PUT" is not allowed: rule "public-read" allows GET, HEAD and POST only`,
			"-header 'Access-Control-Request-Method: PUT' -header 'Access-Control-Request-Headers: content-type' -path /api/public/items/1"}},
	}
	for _, tt := range tests {
		r, ok := after.Rows[tt.id]
		if !ok {
			t.Errorf("%s: no such row", tt.id)
			continue
		}
		if r.Class != "result "+tt.class {
			t.Errorf("%s: class %q; want %q\nresult: %s\nwhy: %s", tt.id, r.Class, "result "+tt.class, r.Result, r.Why)
		}
		for _, s := range tt.result {
			if !strings.Contains(r.Result, s) {
				t.Errorf("%s: the result lacks %q:\n%s", tt.id, s, r.Result)
			}
		}
		for _, s := range tt.why {
			if !strings.Contains(r.Why, s) {
				t.Errorf("%s: the reason lacks %q:\n%s", tt.id, s, r.Why)
			}
		}
		if tt.class != "blocked" && r.Why != "" {
			t.Errorf("%s: a reason beside a call that was not blocked: %s", tt.id, r.Why)
		}
	}
}
