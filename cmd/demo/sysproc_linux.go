package main

import "syscall"

// childSysProcAttr makes the kernel send SIGTERM to the gateway child when
// demo dies, even by SIGKILL, so `make run` never leaves an orphan. The
// child gets a process group of its own, so that Ctrl-C in the terminal
// reaches make and demo only, and demo stops the gateway itself, after
// the page and the upstream: without it, the gateway could exit first and
// demo report it as a failure.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
