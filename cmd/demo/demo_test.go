package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for `corsctl serve`: with
// DEMO_FAKE_GATEWAY set it listens on the -listen address until SIGINT.
func TestMain(m *testing.M) {
	if os.Getenv("DEMO_FAKE_GATEWAY") == "1" {
		fakeGateway(os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

func fakeGateway(args []string) {
	if len(args) == 0 || args[0] != "serve" {
		os.Exit(5) // only serve is faked
	}
	var listen string
	for i, a := range args {
		if a == "-listen" && i+1 < len(args) {
			listen = args[i+1]
		}
	}
	if os.Getenv("DEMO_FAKE_GATEWAY_FAIL") == "1" {
		os.Exit(3)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		os.Exit(4)
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	go http.Serve(ln, http.NotFoundHandler())
	<-ch
	os.Exit(0)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the child's writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
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

// requireBuild returns build/corsctl and build/cors.wasm, skipping when
// they are absent, unless CORS_REQUIRE_WASM=1.
func requireBuild(t *testing.T) (corsctl, wasm string) {
	t.Helper()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	corsctl, wasm = filepath.Join(root, "build", "corsctl"), filepath.Join(root, "build", "cors.wasm")
	for _, f := range []string{corsctl, wasm} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CORS_REQUIRE_WASM") == "1" {
				t.Fatalf("%s is missing (CORS_REQUIRE_WASM=1): run `make build`", f)
			}
			t.Skipf("%s is missing: run `make build`", f)
		}
	}
	return corsctl, wasm
}

func TestServeDemoSupervisesGateway(t *testing.T) {
	tests := []struct {
		desc    string
		fail    bool
		wantErr string
	}{
		{desc: "gateway starts, everything stops on cancel"},
		{desc: "gateway exits before listening", fail: true, wantErr: "gateway exited before listening"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			t.Setenv("DEMO_FAKE_GATEWAY", "1")
			if tt.fail {
				t.Setenv("DEMO_FAKE_GATEWAY_FAIL", "1")
			}
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			o := &options{
				corsctl: exe, wasm: "x.wasm", config: "../../examples/demo/cors.json",
				listen: freeAddr(t), upstreamListen: "127.0.0.1:0", pageListen: "localhost:0",
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out syncBuffer
			errc := make(chan error, 1)
			go func() { errc <- serveDemo(ctx, o, &out, io.Discard) }()

			if tt.fail {
				select {
				case err := <-errc:
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("serveDemo() = %v, want an error containing %q", err, tt.wantErr)
					}
				case <-time.After(20 * time.Second):
					t.Fatal("serveDemo did not return")
				}
				return
			}
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(out.String(), "Ctrl-C stops everything") {
				if time.Now().After(deadline) {
					t.Fatalf("no banner; output so far:\n%s", out.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if !strings.Contains(out.String(), "CORS gateway   http://"+o.listen) {
				t.Errorf("banner does not name the gateway %s:\n%s", o.listen, out.String())
			}
			// The page calls the gateway; the upstream answers directly.
			resp, err := http.Get("http://" + o.pageListen + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), `"http://`+o.listen+`"`) {
				t.Errorf("page does not call the gateway %s", o.listen)
			}
			resp, err = http.Get("http://" + o.upstreamListen + "/api/public/items")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("upstream status = %d, want 200", resp.StatusCode)
			}

			// The fake gateway child is the only process listening on
			// o.listen: after cancel, nothing may accept there any more.
			if c, err := net.Dial("tcp", o.listen); err != nil {
				t.Fatalf("gateway not listening: %v", err)
			} else {
				c.Close()
			}
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Fatalf("serveDemo() = %v, want nil after cancel", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("serveDemo did not stop after cancel")
			}
			for _, addr := range []string{o.listen, o.upstreamListen} {
				if c, err := net.Dial("tcp", addr); err == nil {
					c.Close()
					t.Errorf("%s still accepts connections after stop", addr)
				}
			}
		})
	}
}

func TestUpstream(t *testing.T) {
	srv := httptest.NewServer((&upstream{log: log.New(io.Discard, "", 0)}).handler())
	defer srv.Close()
	tests := []struct {
		desc       string
		method     string
		path       string
		cookie     bool
		body       string
		wantStatus int
		wantBody   string
		wantHeader string // a response header that must be present
	}{
		{desc: "public items", method: "GET", path: "/api/public/items", wantStatus: 200, wantBody: `"flat white"`},
		{desc: "one item", method: "GET", path: "/api/public/items/3", wantStatus: 200, wantBody: `"croissant"`},
		{desc: "no such item", method: "GET", path: "/api/public/items/9", wantStatus: 404},
		{desc: "sign in sets the cookie", method: "POST", path: "/api/app/session", wantStatus: 200, wantHeader: "Set-Cookie"},
		{desc: "order without cookie", method: "POST", path: "/api/app/orders", body: `{"item":1}`, wantStatus: 401, wantBody: "sign in first"},
		{desc: "order with cookie", method: "POST", path: "/api/app/orders", cookie: true, body: `{"item":1,"quantity":2}`, wantStatus: 201, wantBody: `"quantity":2`, wantHeader: "X-Request-Id"},
		{desc: "order with bad json", method: "POST", path: "/api/app/orders", cookie: true, body: `{`, wantStatus: 400},
		{desc: "admin users", method: "GET", path: "/admin/users", wantStatus: 200, wantBody: "alice"},
		{desc: "permissive preflight", method: "OPTIONS", path: "/anything", wantStatus: 204, wantHeader: "Access-Control-Allow-Methods"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.cookie {
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "demo-user"})
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body = %s, want it to contain %s", body, tt.wantBody)
			}
			if tt.wantHeader != "" && resp.Header.Get(tt.wantHeader) == "" {
				t.Errorf("no %s header", tt.wantHeader)
			}
			for _, h := range []string{"X-Request-Id", "X-Internal-Trace"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("no %s: the page's exposed/not exposed lesson needs it on every response", h)
				}
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("upstream ACAO = %q, want the permissive \"*\" the filter must override", got)
			}
		})
	}
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		desc string
		args []string
		want int
	}{
		{desc: "unknown flag", args: []string{"-nope"}, want: 2},
		{desc: "stray argument", args: []string{"extra"}, want: 2},
		{desc: "gateway port taken", args: []string{"-listen", "TAKEN", "-upstream-listen", "127.0.0.1:0", "-page-listen", "127.0.0.1:0"}, want: 1},
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "TAKEN", taken.Addr().String())
			}
			var stderr bytes.Buffer
			if got := run(args, io.Discard, &stderr); got != tt.want {
				t.Errorf("run(%q) = %d, want %d; stderr:\n%s", args, got, tt.want, stderr.String())
			}
		})
	}
}

func TestPageConfig(t *testing.T) {
	const demo = "../../examples/demo/cors.json"
	if path, cleanup, err := pageConfig(demo, defaultPageOrigin); err != nil || path != demo {
		t.Errorf("default origin: got %q, %v; want the config itself", path, err)
	} else {
		cleanup()
	}
	path, cleanup, err := pageConfig(demo, "http://localhost:9081")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if path == demo || !strings.Contains(string(data), `"`+defaultPageOrigin+`", "http://localhost:9081"`) {
		t.Errorf("%s:\n%s\nwant a copy allowing http://localhost:9081 too", path, data)
	}
	cleanup()
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("cleanup left %s", filepath.Dir(path))
	}
}
