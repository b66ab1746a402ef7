package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// postWhy asks the page server at base why a call was blocked.
func postWhy(t *testing.T, base, origin string, req whyRequest) whyAnswer {
	t.Helper()
	body, _ := json.Marshal(req)
	r, _ := http.NewRequest("POST", base+"/why", bytes.NewReader(body))
	r.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /why: %d %s", resp.StatusCode, b)
	}
	var a whyAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestWhy checks what the page shows beside a blocked call: what the
// browser sent, what the gateway answered, and the corsctl explain command
// with what it says, against a gateway that records what it gets.
func TestWhy(t *testing.T) {
	var got []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" origin="+r.Header.Get("Origin")+
			" acrm="+r.Header.Get("Access-Control-Request-Method")+" acrh="+r.Header.Get("Access-Control-Request-Headers"))
		w.Header().Set("Vary", "Origin")
		w.Header().Set("X-Other", "not shown")
		w.WriteHeader(http.StatusForbidden)
	}))
	defer gw.Close()
	e := newExplainer(gw.URL, "build/corsctl", "examples/demo/cors.json")
	var ran []string
	e.run = func(_ context.Context, args []string) ([]byte, error) {
		ran = args
		return []byte("request:   OPTIONS /api/app/orders\nrule:      app-write (rule 2 of 3)\nkind:      preflight\nverdict:   DENIED\n" +
			"reason:    request headers not allowed (preflight_denied_headers)\n" +
			"           header \"x-debug\" is not allowed: rule \"app-write\" allows content-type, x-csrf-token\n" +
			"client:    local reply 403\n"), nil
	}
	page, err := pageHandler(gw.URL, "examples/demo/cors.json", "examples/demo/cors.json", e)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(page)
	defer srv.Close()

	a := postWhy(t, srv.URL, "http://localhost:8081", whyRequest{Method: "POST", Path: "/api/app/orders", Credentials: true,
		Headers: map[string]string{"Content-Type": "application/json", "X-CSRF-Token": "t", "X-Debug": "1"}})
	if want := "OPTIONS /api/app/orders origin=http://localhost:8081 acrm=POST acrh=content-type,x-csrf-token,x-debug"; len(got) != 1 || got[0] != want {
		t.Errorf("the gateway got %q; want the browser's preflight %q", got, want)
	}
	wantCmd := "build/corsctl explain examples/demo/cors.json -origin http://localhost:8081 -method OPTIONS " +
		"-header 'Access-Control-Request-Method: POST' -header 'Access-Control-Request-Headers: content-type,x-csrf-token,x-debug' -path /api/app/orders"
	if a.Command != wantCmd {
		t.Errorf("command:\n got  %s\n want %s", a.Command, wantCmd)
	}
	if shellCommand(append([]string{"build/corsctl"}, ran...)) != wantCmd {
		t.Errorf("ran corsctl %q; want the command shown", ran)
	}
	want := whyAnswer{Sent: "OPTIONS /api/app/orders", Preflight: true, Status: 403, Headers: [][2]string{{"vary", "Origin"}},
		Rule: "app-write (rule 2 of 3)", Verdict: "DENIED", Reason: "request headers not allowed (preflight_denied_headers)",
		Detail: `header "x-debug" is not allowed: rule "app-write" allows content-type, x-csrf-token`}
	if a.Sent != want.Sent || a.Preflight != want.Preflight || a.Status != want.Status || len(a.Headers) != 1 || a.Headers[0] != want.Headers[0] ||
		a.Rule != want.Rule || a.Verdict != want.Verdict || a.Reason != want.Reason || a.Detail != want.Detail || a.Error != "" {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}

	// A simple GET is sent as it is; credentials make explain judge them.
	got = nil
	a = postWhy(t, srv.URL, "http://localhost:8081", whyRequest{Method: "GET", Path: "/admin/users", Credentials: true})
	if len(got) != 1 || got[0] != "GET /admin/users origin=http://localhost:8081 acrm= acrh=" || a.Preflight || a.Status != 403 {
		t.Errorf("the gateway got %q, answer %+v; want the GET itself", got, a)
	}
	if !strings.HasSuffix(a.Command, "-method GET -credentials -path /admin/users") {
		t.Errorf("command %q; want -credentials", a.Command)
	}
	// A simple POST is not sent twice.
	got = nil
	a = postWhy(t, srv.URL, "http://localhost:8081", whyRequest{Method: "POST", Path: "/api/public/items", Headers: map[string]string{"Content-Type": "text/plain"}})
	if len(got) != 0 || a.Preflight || !strings.Contains(a.Error, "not sent again") {
		t.Errorf("the gateway got %q, answer %+v; want nothing sent", got, a)
	}
	// Nonsense is refused.
	resp, err := http.Post(srv.URL+"/why", "application/json", strings.NewReader(`{"method":"GE T","path":"/x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an invalid method: %d; want 400", resp.StatusCode)
	}
}

func TestUnsafeHeaders(t *testing.T) {
	got := unsafeHeaders(map[string]string{"Content-Type": "text/plain;charset=utf-8", "Accept": "*/*", "X-B": "1", "x-a": "2"})
	if strings.Join(got, ",") != "x-a,x-b" {
		t.Errorf("got %q; want x-a,x-b", got)
	}
	got = unsafeHeaders(map[string]string{"Content-Type": "application/json"})
	if strings.Join(got, ",") != "content-type" {
		t.Errorf("got %q; want content-type: JSON is not a safelisted content type", got)
	}
}

func TestShellCommand(t *testing.T) {
	got := shellCommand([]string{"build/corsctl", "explain", "a b.json", "-header", "X: it's", "-origin", "http://localhost:8081"})
	want := `build/corsctl explain 'a b.json' -header 'X: it'\''s' -origin http://localhost:8081`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestWhyWithTheRealGateway runs the demo with the real corsctl and
// cors.wasm, and checks the reason shown beside each blocked call of the
// page: what the gateway answered, and corsctl explain's culprit.
func TestWhyWithTheRealGateway(t *testing.T) {
	corsctl, wasm := requireBuild(t)
	o := &options{corsctl: corsctl, wasm: wasm, config: "../../examples/demo/cors.json",
		listen: freeAddr(t), upstreamListen: "127.0.0.1:0", pageListen: "localhost:0"}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	errc := make(chan error, 1)
	go func() { errc <- serveDemo(ctx, o, &out, io.Discard) }()
	defer func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("serveDemo: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serveDemo did not stop")
		}
	}()
	deadline := time.Now().Add(3 * time.Minute) // compiling cors.wasm is slow under -race
	for !strings.Contains(out.String(), "Ctrl-C stops everything") {
		select {
		case err := <-errc:
			t.Fatalf("serveDemo: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	page, origin := "http://"+o.pageListen, "http://"+o.pageListen
	order := map[string]string{"Content-Type": "application/json", "X-CSRF-Token": "demo-token"}
	tests := []struct {
		desc       string
		req        whyRequest
		wantSent   string
		wantDetail string
		wantCmd    string
	}{
		{desc: "admin: no origin allowed", req: whyRequest{Method: "GET", Path: "/admin/users"}, wantSent: "GET /admin/users",
			wantDetail: `origin "` + origin + `" is not allowed: rule "admin" allows no origin (its allowed_origins is empty)`,
			wantCmd:    " explain " + o.gatewayConfig + " -origin " + origin + " -method GET -path /admin/users"},
		{desc: "a header not allowed", req: whyRequest{Method: "POST", Path: "/api/app/orders", Credentials: true,
			Headers: map[string]string{"Content-Type": "application/json", "X-CSRF-Token": "demo-token", "X-Debug": "1"}},
			wantSent:   "OPTIONS /api/app/orders",
			wantDetail: `header "x-debug" is not allowed: rule "app-write" allows content-type, x-csrf-token`,
			wantCmd:    "-header 'Access-Control-Request-Headers: content-type,x-csrf-token,x-debug' -path /api/app/orders"},
		{desc: "a method not allowed", req: whyRequest{Method: "PUT", Path: "/api/public/items/1", Headers: map[string]string{"Content-Type": "application/json"}},
			wantSent:   "OPTIONS /api/public/items/1",
			wantDetail: `method "PUT" is not allowed: rule "public-read" allows GET, HEAD and POST only`,
			wantCmd:    "-method OPTIONS -header 'Access-Control-Request-Method: PUT' -header 'Access-Control-Request-Headers: content-type' -path /api/public/items/1"},
		{desc: "an allowed preflight, for contrast", req: whyRequest{Method: "POST", Path: "/api/app/orders", Headers: order},
			wantSent: "OPTIONS /api/app/orders"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			a := postWhy(t, page, origin, tt.req)
			if a.Sent != tt.wantSent || !strings.Contains(a.Command, tt.wantCmd) || !strings.HasPrefix(a.Command, corsctl+" explain ") {
				t.Errorf("sent %q, command %q; want %q and a command containing %q", a.Sent, a.Command, tt.wantSent, tt.wantCmd)
			}
			acao := false
			for _, h := range a.Headers {
				acao = acao || h[0] == "access-control-allow-origin"
			}
			if tt.wantDetail == "" {
				if a.Status != 204 || !acao || a.Verdict != "ALLOWED" {
					t.Errorf("got %+v; want 204 with access-control-allow-origin, ALLOWED", a)
				}
				return
			}
			if a.Status != 403 || acao || a.Verdict != "DENIED" || a.Detail != tt.wantDetail {
				t.Errorf("got %+v\nwant 403 without access-control-allow-origin, DENIED, and the detail %q", a, tt.wantDetail)
			}
		})
	}
}
