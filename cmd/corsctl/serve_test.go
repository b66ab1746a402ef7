package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestServe(t *testing.T) {
	wasm := testWasm(t)
	config := tempConfig(t, replayConfig)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			t.Errorf("a preflight reached the upstream")
		}
		w.Header().Set("Access-Control-Allow-Origin", "*") // permissive upstream: must be replaced
		w.Header().Set("Vary", "Accept-Encoding")
		w.Header().Set("X-Seen-Host", r.Host)
		if r.URL.Path == "/private" {
			w.WriteHeader(http.StatusUnauthorized) // a "later filter" 401
		}
		fmt.Fprintf(w, "path=%s", r.URL.RequestURI())
	}))
	defer upstream.Close()

	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan int, 1)
	var stdout, stderr syncBuffer
	go func() {
		done <- serve(ctx, []string{config, "-upstream", upstream.URL, "-listen", "127.0.0.1:0", "-wasm", wasm, "-workers", "2"},
			&stdout, &stderr, func(addr string) { addrc <- addr })
	}()
	var base string
	select {
	case addr := <-addrc:
		base = "http://" + addr
	case code := <-done:
		t.Fatalf("serve exited with %d: %s", code, stderr.String())
	case <-time.After(3 * time.Minute): // compiling the .wasm is slow under -race
		t.Fatal("serve did not start")
	}
	if !strings.Contains(stdout.String(), "corsctl: serving on "+base+" -> "+upstream.URL) {
		t.Errorf("stdout: got %q; want the address announced", stdout.String())
	}

	cases := []struct {
		desc       string
		method     string
		path       string
		headers    map[string]string
		wantStatus int
		wantACAO   string
		wantVary   string
		wantBody   string
	}{
		{desc: "allowed preflight answered by the plugin", method: "OPTIONS", path: "/items",
			headers:    map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"},
			wantStatus: 204, wantACAO: "https://app.example.com", wantVary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
		{desc: "denied preflight", method: "OPTIONS", path: "/items",
			headers:    map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"},
			wantStatus: 403, wantACAO: "", wantVary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers", wantBody: "CORS preflight denied\n"},
		{desc: "allowed actual request proxied, upstream ACAO replaced", method: "GET", path: "/items?q=1",
			headers:    map[string]string{"Origin": "https://app.example.com"},
			wantStatus: 200, wantACAO: "https://app.example.com", wantVary: "Accept-Encoding, Origin", wantBody: "path=/items?q=1"},
		{desc: "escaped path reaches the upstream as sent", method: "GET", path: "/items/a%2Fb%20c?x=%2F",
			headers:    map[string]string{"Origin": "https://app.example.com"},
			wantStatus: 200, wantACAO: "https://app.example.com", wantVary: "Accept-Encoding, Origin", wantBody: "path=/items/a%2Fb%20c?x=%2F"},
		{desc: "upstream 401 decorated", method: "GET", path: "/private",
			headers:    map[string]string{"Origin": "https://app.example.com"},
			wantStatus: 401, wantACAO: "https://app.example.com", wantVary: "Accept-Encoding, Origin", wantBody: "path=/private"},
		{desc: "disallowed origin: upstream ACAO stripped", method: "GET", path: "/items",
			headers:    map[string]string{"Origin": "https://evil.example"},
			wantStatus: 200, wantACAO: "", wantVary: "Accept-Encoding, Origin", wantBody: "path=/items"},
	}
	var wg sync.WaitGroup
	for round := range 20 {
		for _, tc := range cases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(tc.method, base+tc.path, nil)
				for k, v := range tc.headers {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("%s (round %d): %v", tc.desc, round, err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				acao := resp.Header.Values("Access-Control-Allow-Origin")
				if resp.StatusCode != tc.wantStatus || strings.Join(acao, "|") != tc.wantACAO ||
					resp.Header.Get("Vary") != tc.wantVary || (tc.wantBody != "" && string(body) != tc.wantBody) {
					t.Errorf("%s (round %d): got %d, ACAO %q, Vary %q, body %q; want %d, %q, %q, %q",
						tc.desc, round, resp.StatusCode, acao, resp.Header.Get("Vary"), body,
						tc.wantStatus, tc.wantACAO, tc.wantVary, tc.wantBody)
				}
				if tc.wantStatus != 204 && tc.wantStatus != 403 && resp.Header.Get("X-Seen-Host") != strings.TrimPrefix(base, "http://") {
					t.Errorf("%s: upstream saw Host %q; want the original authority", tc.desc, resp.Header.Get("X-Seen-Host"))
				}
			}()
		}
	}
	wg.Wait()

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit: got %d; want 0; stderr: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if strings.Contains(stderr.String(), "corsctl: serve:") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func TestServeInvalidConfig(t *testing.T) {
	wasm := testWasm(t)
	config := tempConfig(t, `{"allowed_origins": ["*"], "allow_credentials": true}`)
	var stdout, stderr syncBuffer
	code := serve(context.Background(), []string{"-config", config, "-upstream", "http://127.0.0.1:1", "-wasm", wasm}, &stdout, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), "cors: ") {
		t.Fatalf("got exit %d, stderr %q; want 1 and the cors: errors", code, stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
