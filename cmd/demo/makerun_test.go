//go:build linux

package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMakeRunStopsOnCtrlC runs `make run` with its ports as variables, as a
// terminal runs it (a process group of its own, in the foreground), then
// sends SIGINT to that group as Ctrl-C does: make, demo and the corsctl
// gateway must all be gone, and every port free.
func TestMakeRunStopsOnCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make run")
	}
	requireBuild(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	ports := map[string]string{}
	for _, v := range []string{"API_PORT", "PAGE_PORT", "UPSTREAM_PORT"} {
		_, ports[v], _ = net.SplitHostPort(freeAddr(t))
	}
	// -o: the plugin and corsctl are taken as built (requireBuild), so
	// that make never rewrites them under the feet of tests running in
	// parallel; build/demo is built if need be.
	cmd := exec.Command("make", "--no-print-directory", "-o", "build/cors.wasm", "-o", "build/noop.wasm", "-o", "build/corsctl", "run",
		"API_PORT="+ports["API_PORT"], "PAGE_PORT="+ports["PAGE_PORT"], "UPSTREAM_PORT="+ports["UPSTREAM_PORT"])
	cmd.Dir = root
	// Not the make of `make test`, whose jobserver this make must not join.
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=", "MFLAGS=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	defer syscall.Kill(-pgid, syscall.SIGKILL) // whatever is left if the test fails

	var stdout syncBuffer
	banner := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			stdout.Write([]byte(sc.Text() + "\n"))
			if strings.Contains(sc.Text(), "Ctrl-C stops everything") {
				close(banner)
			}
		}
	}()
	select {
	case <-banner:
	case <-time.After(3 * time.Minute): // make may build first
		t.Fatalf("no banner from make run\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	addrs := []string{"127.0.0.1:" + ports["API_PORT"], "localhost:" + ports["PAGE_PORT"], "127.0.0.1:" + ports["UPSTREAM_PORT"]}
	for _, addr := range addrs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("make run: nothing listens on %s: %v\n%s", addr, err, stdout.String())
		}
		c.Close()
	}
	gateways := processesWith(t, "-listen 127.0.0.1:"+ports["API_PORT"])
	if len(gateways) != 2 { // demo and its corsctl serve child
		t.Fatalf("processes with the API port in their command line: %v; want demo and corsctl", gateways)
	}

	// Ctrl-C: SIGINT to the terminal's foreground process group.
	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("make run still running 30s after Ctrl-C\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := processesWith(t, "-listen 127.0.0.1:"+ports["API_PORT"])
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still running after make run stopped: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, addr := range addrs {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Ctrl-C", addr)
		}
	}
	if !strings.Contains(stdout.String(), "demo: stopping") || !strings.Contains(stdout.String(), "corsctl: stopped") {
		t.Errorf("want demo to stop, and corsctl to stop cleanly:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	if strings.Contains(stderr.String(), "gateway exited") {
		t.Errorf("demo took the gateway's stop for a failure:\n%s", stderr.String())
	}
}

// processesWith returns the command lines of the processes whose command
// line contains s.
func processesWith(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip(err)
	}
	var out []string
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // not a process, or one that just exited
		}
		cmdline := strings.ReplaceAll(strings.TrimRight(string(data), "\x00"), "\x00", " ")
		if strings.Contains(cmdline, s) {
			out = append(out, e.Name()+": "+cmdline)
		}
	}
	return out
}
