package main

import "syscall"

// childSysProcAttr makes the kernel send SIGTERM to the gateway child when
// demo dies, even by SIGKILL, so `make run` never leaves an orphan.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
