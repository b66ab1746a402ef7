// Command demo runs what `make run` shows: a demo upstream JSON API, the CORS
// gateway in front of it (`corsctl serve` with the real cors.wasm, started
// and supervised as a child process), and a demo page on a different origin
// whose buttons make allowed and blocked fetch() calls.
//
//	demo [-corsctl build/corsctl] [-wasm build/cors.wasm] [-config examples/demo/cors.json]
//	     [-listen 127.0.0.1:8080] [-upstream-listen 127.0.0.1:8090] [-page-listen localhost:8081]
//
// Ctrl-C (SIGINT), SIGTERM or SIGHUP stop everything; the gateway child also
// gets SIGTERM if demo itself dies (Linux).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are demo's flags.
type options struct {
	corsctl, wasm, config string
	listen                string // the CORS gateway's address
	upstreamListen        string
	pageListen            string

	// gatewayConfig is the configuration the gateway runs: config, or a
	// copy of it for the page's origin (see pageConfig).
	gatewayConfig string
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.corsctl, "corsctl", "build/corsctl", "the corsctl binary that serves the gateway; \"\" to run only the upstream and the page")
	fs.StringVar(&o.wasm, "wasm", "build/cors.wasm", "the plugin the gateway runs")
	fs.StringVar(&o.config, "config", "examples/demo/cors.json", "the plugin configuration")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "the gateway's listen address (the page calls http://ADDR)")
	fs.StringVar(&o.upstreamListen, "upstream-listen", "127.0.0.1:8090", "the demo upstream API's listen address")
	fs.StringVar(&o.pageListen, "page-listen", "localhost:8081", "the demo page's listen address; its origin is http://ADDR")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := serveDemo(ctx, &o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	return 0
}

// serveDemo runs the upstream, the page and the gateway until ctx is done or
// the gateway exits, then stops all three.
func serveDemo(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	logger := log.New(stdout, "", log.Ltime)
	gateway := "http://" + o.listen
	if o.corsctl != "" {
		// Fail early and clearly when the port is taken, instead of
		// mistaking another process for the gateway.
		ln, err := net.Listen("tcp", o.listen)
		if err != nil {
			return fmt.Errorf("gateway address unavailable: %w", err)
		}
		ln.Close()
	}

	up := &upstream{log: logger}
	upLns, err := listenAll(o.upstreamListen)
	if err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	upSrv := &http.Server{Handler: up.handler(), ReadHeaderTimeout: 10 * time.Second}
	pageLns, err := listenAll(o.pageListen)
	if err != nil {
		closeAll(upLns)
		return fmt.Errorf("page: %w", err)
	}
	// With port 0 (tests), the real addresses are known only now.
	o.upstreamListen = upLns[0].Addr().String()
	if host, _, _ := net.SplitHostPort(o.pageListen); host == "localhost" {
		_, port, _ := net.SplitHostPort(pageLns[0].Addr().String())
		o.pageListen = net.JoinHostPort(host, port)
	} else {
		o.pageListen = pageLns[0].Addr().String()
	}
	config, cleanup, err := pageConfig(o.config, "http://"+o.pageListen)
	if err != nil {
		closeAll(upLns)
		closeAll(pageLns)
		return err
	}
	defer cleanup()
	o.gatewayConfig = config
	page, err := pageHandler(gateway, o.config, o.gatewayConfig, newExplainer(gateway, o.corsctl, o.gatewayConfig))
	if err != nil {
		closeAll(upLns)
		closeAll(pageLns)
		return fmt.Errorf("page: %w", err)
	}
	pageSrv := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range upLns {
		go upSrv.Serve(ln)
	}
	for _, ln := range pageLns {
		go pageSrv.Serve(ln)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		upSrv.Shutdown(sctx)
		pageSrv.Shutdown(sctx)
	}()

	var gw *child
	if o.corsctl != "" {
		gw, err = startGateway(ctx, o, "http://"+o.upstreamListen, stdout, stderr)
		if err != nil {
			return err
		}
		defer gw.stop(12 * time.Second)
	}

	fmt.Fprint(stdout, banner(o, gateway))
	if gw == nil {
		<-ctx.Done()
	} else {
		select {
		case <-ctx.Done():
		case <-gw.done:
			return fmt.Errorf("gateway exited: %v", gw.err)
		}
	}
	fmt.Fprintln(stdout, "\ndemo: stopping")
	return nil
}

// child is the supervised `corsctl serve` process.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // the exit status, valid after done
}

// startGateway starts `corsctl serve` and waits until it accepts
// connections, or fails if it exits first or takes longer than 30 s.
func startGateway(ctx context.Context, o *options, upstreamURL string, stdout, stderr io.Writer) (*child, error) {
	cmd := exec.Command(o.corsctl, "serve", o.gatewayConfig, "-upstream", upstreamURL, "-listen", o.listen, "-wasm", o.wasm)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = childSysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", o.listen, time.Second)
		if err == nil {
			conn.Close()
			return c, nil
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("gateway exited before listening: %v", c.err)
		case <-ctx.Done():
			c.stop(12 * time.Second)
			return nil, errors.New("interrupted while the gateway was starting")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.stop(12 * time.Second)
			return nil, fmt.Errorf("gateway not listening on %s after 30s", o.listen)
		}
	}
}

// stop asks the child to exit with SIGINT, and kills it after grace.
func (c *child) stop(grace time.Duration) {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(grace):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// listenAll listens on addr; for a "localhost" host it listens on both
// loopback addresses, so the page's origin works whichever one the browser
// resolves first (IPv6 is best effort).
func listenAll(addr string) ([]net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if host != "localhost" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		return []net.Listener{ln}, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return nil, err
	}
	lns := []net.Listener{ln}
	if ln6, err := net.Listen("tcp", net.JoinHostPort("::1", port)); err == nil {
		lns = append(lns, ln6)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// banner is what demo prints once everything listens.
func banner(o *options, gateway string) string {
	page := "http://" + o.pageListen
	corsctl := o.corsctl
	if corsctl == "" {
		corsctl = "build/corsctl"
	}
	policy := o.config
	if o.gatewayConfig != o.config {
		policy = fmt.Sprintf("%s, allowing the page's origin %s: %s", o.config, page, o.gatewayConfig)
	}
	s := fmt.Sprintf(`
demo upstream  http://%s   (the API; it sends Access-Control-Allow-Origin: * itself)
CORS gateway   %s   (corsctl serve: %s with %s)
demo page      %s   (open this in a browser: a different origin from the gateway)

try:
  # allowed preflight (rule app-write): 204 with the CORS headers
  curl -si -X OPTIONS %[2]s/api/app/orders -H 'Origin: %[5]s' -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type,x-csrf-token'
  # denied preflight (origin not allowed): 403, no CORS headers
  curl -si -X OPTIONS %[2]s/api/app/orders -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'
  # actual request (rule public-read): the upstream's ACAO replaced by the policy's
  curl -si %[2]s/api/public/items -H 'Origin: https://anyone.example'
  # credentialed actual request (rule app-write)
  curl -si -X POST %[2]s/api/app/orders -H 'Origin: %[5]s' -H 'Cookie: %[6]s=demo-user' -H 'Content-Type: application/json' -d '{"item":2,"quantity":1}'
  # ask corsctl why
  %[7]s explain %[8]s -origin https://evil.example -method OPTIONS -header 'Access-Control-Request-Method: POST' -path /api/app/orders

Ctrl-C stops everything.
`, o.upstreamListen, gateway, o.wasm, policy, page, sessionCookie, corsctl, o.gatewayConfig)
	if o.corsctl == "" {
		s += "(gateway not started: -corsctl is empty; start corsctl serve yourself)\n"
	}
	return s
}

// defaultPageOrigin is the page's origin in examples/demo/cors.json.
const defaultPageOrigin = "http://localhost:8081"

// pageConfig returns the configuration file the gateway runs: config
// itself, or, when the page is served on another origin (make run
// PAGE_PORT=...), a copy in a temporary directory that allows the page's
// origin beside http://localhost:8081 (which curl examples and the Envoy
// smoke test still use). cleanup removes the copy.
func pageConfig(config, pageOrigin string) (path string, cleanup func(), err error) {
	nothing := func() {}
	if pageOrigin == defaultPageOrigin {
		return config, nothing, nil
	}
	data, err := os.ReadFile(config)
	if err != nil {
		return "", nothing, fmt.Errorf("config: %w", err)
	}
	quoted := []byte(`"` + defaultPageOrigin + `"`)
	if !bytes.Contains(data, quoted) {
		return config, nothing, nil
	}
	dir, err := os.MkdirTemp("", "cors-demo-")
	if err != nil {
		return "", nothing, err
	}
	path = filepath.Join(dir, filepath.Base(config))
	data = bytes.ReplaceAll(data, quoted, []byte(`"`+defaultPageOrigin+`", "`+pageOrigin+`"`))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		os.RemoveAll(dir)
		return "", nothing, err
	}
	return path, func() { os.RemoveAll(dir) }, nil
}
