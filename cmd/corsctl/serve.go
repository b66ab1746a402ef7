package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/corsfilter/corsfilter/host"
)

func init() {
	commands["serve"] = command{
		summary: "reverse proxy that runs the real cors.wasm on every request",
		run:     runServe,
	}
}

func runServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr, nil)
}

// serve runs the proxy until ctx is done, then shuts down cleanly. ready,
// when not nil, receives the listening address.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	configFlag := fset.String("config", "", "the plugin configuration `file`, if not given as an argument")
	upstream := fset.String("upstream", "", "upstream base `URL`, e.g. http://127.0.0.1:3000")
	listen := fset.String("listen", "127.0.0.1:8080", "listen `address`")
	wasmPath := fset.String("wasm", "", wasmUsage)
	workers := fset.Int("workers", runtime.NumCPU(), "number of VMs, like Envoy's worker threads")
	logLevel := fset.String("log-level", "info", "lowest plugin log `level` printed: trace, debug, info, warn, error, critical")
	fset.Usage = func() {
		w := fset.Output()
		fmt.Fprintln(w, "usage: corsctl serve CONFIG -upstream URL [-listen 127.0.0.1:8080] [-wasm FILE]")
		fmt.Fprintln(w, "A local reverse proxy that runs the real cors.wasm on every request.")
		fset.PrintDefaults()
	}
	pos, code, ok := parseFlags(fset, args, stdout, stderr)
	if !ok {
		return code
	}
	configPath, ok := configArg(fset, pos, *configFlag, stderr)
	if !ok {
		return 2
	}
	if *upstream == "" {
		fmt.Fprintln(stderr, "corsctl serve: missing -upstream URL: the server the requests go to")
		return 2
	}
	if *workers < 1 {
		fmt.Fprintf(stderr, "corsctl serve: -workers %d: want at least 1\n", *workers)
		return 2
	}
	target, err := url.Parse(*upstream)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		fmt.Fprintf(stderr, "corsctl: serve: -upstream %q is not an http(s) URL\n", *upstream)
		return 2
	}
	minLevel, ok := parseLogLevel(*logLevel)
	if !ok {
		fmt.Fprintf(stderr, "corsctl: serve: unknown -log-level %q\n", *logLevel)
		return 2
	}
	var logMu sync.Mutex
	sink := func(level host.LogLevel, msg string) {
		if level >= minLevel {
			logMu.Lock()
			fmt.Fprintf(stderr, "wasm %s: %s\n", level, strings.TrimRight(msg, "\n"))
			logMu.Unlock()
		}
	}
	plugin, config, code := loadPlugin(ctx, *wasmPath, configPath, stderr, host.WithLogSink(sink), host.WithMaxLogs(1_000))
	if plugin == nil {
		return code
	}
	defer plugin.Close(context.Background())
	pool := &vmPool{}
	for range *workers {
		vm, code := startVM(ctx, plugin, config, io.Discard) // the sink already printed the errors
		if vm == nil {
			if l := syntaxLine(config.path, config.pluginConfig); l != "" {
				fmt.Fprintln(stderr, l)
			}
			return code
		}
		pool.vms = append(pool.vms, vm)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "corsctl: serve: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: newProxy(pool, target, stderr), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "corsctl: serving on http://%s -> %s (%d VMs)\n", ln.Addr(), target, len(pool.vms))
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "corsctl: serve: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "corsctl: serve: shutdown: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "corsctl: stopped")
	return 0
}

func parseLogLevel(s string) (host.LogLevel, bool) {
	for l := host.LogTrace; l <= host.LogCritical; l++ {
		if l.String() == s {
			return l, true
		}
	}
	return 0, false
}

// vmPool is a fixed set of configured VMs, one per "worker". A stream is
// pinned to the VM that saw its request headers, because its context lives
// there; the VM is locked only while a callback runs, so other streams use
// it while this one waits for the upstream, as on an Envoy worker.
type vmPool struct {
	vms  []*host.VM
	next atomic.Uint64
}

// pick returns the next VM, round robin.
func (p *vmPool) pick() *host.VM {
	return p.vms[(p.next.Add(1)-1)%uint64(len(p.vms))]
}

// streamKey is the context key of the in-flight stream of a proxied request.
type streamKey struct{}

// proxyStream is a stream between its request and response phases.
type proxyStream struct {
	st       *host.Stream
	upstream host.Request
	finished bool
}

// newProxy returns the handler: request headers through a VM, local replies
// answered directly, everything else proxied with the upstream's response
// headers through the same VM's response-headers callback.
func newProxy(pool *vmPool, target *url.URL, stderr io.Writer) http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			ps := pr.In.Context().Value(streamKey{}).(*proxyStream)
			up := ps.upstream
			path, query, _ := strings.Cut(up.Path, "?")
			pr.Out.Method = up.Method
			// :path is escaped as the client sent it; keep it so, rather
			// than escaping it a second time (a%2Fb must not become a%252Fb).
			pr.Out.URL.RawQuery = query
			if unescaped, err := url.PathUnescape(path); err == nil {
				pr.Out.URL.Path, pr.Out.URL.RawPath = unescaped, path
			} else {
				pr.Out.URL.Path, pr.Out.URL.RawPath = path, ""
			}
			pr.SetURL(target)
			pr.Out.Host = up.Authority // Envoy keeps :authority unless told to rewrite it
			pr.Out.Header = http.Header{}
			for _, kv := range up.Headers {
				pr.Out.Header.Add(kv.Name, kv.Value)
			}
			removeHopByHop(pr.Out.Header)
			pr.SetXForwarded()
		},
		ModifyResponse: func(resp *http.Response) error {
			ps := resp.Request.Context().Value(streamKey{}).(*proxyStream)
			hs := make([]host.Header, 0, len(resp.Header))
			for name, values := range resp.Header {
				for _, v := range values {
					hs = append(hs, host.Header{Name: strings.ToLower(name), Value: v})
				}
			}
			ps.finished = true
			res, err := ps.st.Finish(&host.Response{Status: resp.StatusCode, Headers: hs})
			if err != nil {
				return err
			}
			resp.StatusCode = res.Status
			resp.Status = fmt.Sprintf("%d %s", res.Status, http.StatusText(res.Status))
			resp.Header = toHTTPHeader(res.Headers)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			ps := r.Context().Value(streamKey{}).(*proxyStream)
			fmt.Fprintf(stderr, "corsctl: serve: %s %s: %v\n", r.Method, r.URL.Path, err)
			if ps.finished {
				// The VM failed on the response path: fail closed, as Envoy.
				http.Error(w, "cors: wasm fail stream", http.StatusServiceUnavailable)
				return
			}
			// Envoy answers an upstream failure with a local 503 that still
			// travels the filter's response path.
			ps.finished = true
			res, ferr := ps.st.Finish(&host.Response{Status: http.StatusServiceUnavailable,
				Headers: []host.Header{{Name: "content-type", Value: "text/plain"}}})
			if ferr != nil {
				http.Error(w, "cors: wasm fail stream", http.StatusServiceUnavailable)
				return
			}
			writeResult(w, res, []byte("upstream connect error\n"))
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vm := pool.pick()
		req := host.Request{Method: r.Method, Scheme: "http", Authority: r.Host, Path: r.URL.RequestURI()}
		if r.TLS != nil {
			req.Scheme = "https"
		}
		// Envoy's connection manager strips hop-by-hop headers before any
		// filter runs; so does serve.
		in := r.Header.Clone()
		removeHopByHop(in)
		for name, values := range in {
			for _, v := range values {
				req.Headers = append(req.Headers, host.Header{Name: strings.ToLower(name), Value: v})
			}
		}
		st, err := vm.StartStream(req)
		if err != nil {
			fmt.Fprintf(stderr, "corsctl: serve: %s %s: %v\n", r.Method, r.URL.Path, err)
			http.Error(w, "cors: wasm fail stream", http.StatusServiceUnavailable)
			return
		}
		defer st.Close() // ends the stream if the client went away first
		if !st.Forwarding() {
			res, err := st.Finish(nil)
			if err != nil {
				fmt.Fprintf(stderr, "corsctl: serve: %s %s: %v\n", r.Method, r.URL.Path, err)
				http.Error(w, "cors: wasm fail stream", http.StatusServiceUnavailable)
				return
			}
			writeResult(w, res, res.Body)
			return
		}
		ps := &proxyStream{st: st, upstream: st.UpstreamRequest()}
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), streamKey{}, ps)))
	})
}

// writeResult writes a response the VM produced.
func writeResult(w http.ResponseWriter, res host.Result, body []byte) {
	h := w.Header()
	for _, kv := range res.Headers {
		h.Add(kv.Name, kv.Value)
	}
	if len(body) > 0 {
		h.Set("Content-Length", fmt.Sprint(len(body)))
	} else {
		h.Del("Content-Length")
	}
	w.WriteHeader(res.Status)
	w.Write(body)
}

func toHTTPHeader(hs []host.Header) http.Header {
	out := make(http.Header, len(hs))
	for _, kv := range hs {
		out.Add(kv.Name, kv.Value)
	}
	return out
}

// hopByHop are the connection-specific headers a proxy must not forward
// (RFC 9110 §7.6.1).
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopByHop(h http.Header) {
	for _, f := range h.Values("Connection") {
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}
