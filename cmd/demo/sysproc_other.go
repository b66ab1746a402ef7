//go:build !linux

package main

import "syscall"

// childSysProcAttr returns nil: only Linux can tie the child's life to
// demo's; elsewhere the child is stopped by demo's signal handling.
func childSysProcAttr() *syscall.SysProcAttr { return nil }
