package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// WASI errno values Envoy's host answers with.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoFault   = 21
	errnoInval   = 28
	errnoNosys   = 52
	errnoNotsup  = 58
)

// monotonicStart anchors the monotonic clock.
var monotonicStart = time.Now()

// wasiFuncs are exactly the 15 wasi_snapshot_preview1 functions Envoy's
// proxy-wasm host offers (proxy-wasm-cpp-host src/exports.cc, complete since
// PR #427, Envoy 1.33), with its results. A module importing any other WASI
// function fails to instantiate, as it fails to load in Envoy. The
// allowInit/allowAlloc flags follow proxy-wasm-cpp-host's restricted
// callbacks during _initialize and proxy_on_memory_allocate.
var wasiFuncs = []hostFunc{
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-sched_yield---result-errno
	{name: "sched_yield", fn: func(_ *VM, s []uint64) { s[0] = errnoSuccess }},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-proc_exitrval-exitcode
	// Only logged, and the guest goes on: see wasiProcExit.
	{name: "proc_exit", names: []string{"rval"}, fn: wasiProcExit},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-args_getargv-pointerpointeru8-argv_buf-pointeru8---result-errno
	{name: "args_get", names: []string{"argv", "argv_buf"}, allowInit: true, fn: func(_ *VM, s []uint64) { s[0] = errnoSuccess }},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-args_sizes_get---resultsize-size-errno
	{name: "args_sizes_get", names: []string{"result.argc", "result.argv_len"}, allowInit: true, fn: wasiZeroSizes},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-clock_time_getid-clockid-precision-timestamp---resulttimestamp-errno
	{name: "clock_time_get", names: []string{"id", "precision", "result.timestamp"}, params: []api.ValueType{i32, i64, i32}, allowInit: true, allowAlloc: true, fn: wasiClockTimeGet},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-environ_getenviron-pointerpointeru8-environ_buf-pointeru8---result-errno
	{name: "environ_get", names: []string{"environ", "environ_buf"}, allowInit: true, fn: func(_ *VM, s []uint64) { s[0] = errnoSuccess }},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-environ_sizes_get---resultsize-size-errno
	{name: "environ_sizes_get", names: []string{"result.environc", "result.environv_len"}, allowInit: true, fn: wasiZeroSizes},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_writefd-fd-iovs-ciovec_array---resultsize-errno
	// stdout is logged at info, stderr at error, one trailing newline
	// stripped; other descriptors are EBADF.
	{name: "fd_write", names: []string{"fd", "iovs", "iovs_len", "result.nwritten"}, allowInit: true, allowAlloc: true, fn: wasiFdWrite},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-random_getbuf-pointeru8-buf_len-size---result-errno
	{name: "random_get", names: []string{"buf", "buf_len"}, allowInit: true, fn: wasiRandomGet},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-poll_oneoffin-constpointersubscription-out-pointerevent-nsubscriptions-size---resultsize-errno
	// See [WithPollOneoff]; every call is counted.
	{name: "poll_oneoff", names: []string{"in", "out", "nsubscriptions", "result.nevents"}, fn: wasiPollOneoff},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_closefd-fd---result-errno
	// Only logged, and success: see wasiFdClose.
	{name: "fd_close", names: []string{"fd"}, fn: wasiFdClose},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_fdstat_getfd-fd---resultfdstat-errno
	{name: "fd_fdstat_get", names: []string{"fd", "result.stat"}, allowInit: true, fn: wasiFdFdstatGet},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_fdstat_set_flagsfd-fd-flags-fdflags---result-errno
	{name: "fd_fdstat_set_flags", names: []string{"fd", "flags"}, allowInit: true, fn: func(_ *VM, s []uint64) { s[0] = errnoNosys }},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_prestat_getfd-fd---resultprestat-errno
	// No preopened directories.
	{name: "fd_prestat_get", names: []string{"fd", "result.prestat"}, allowInit: true, fn: func(_ *VM, s []uint64) { s[0] = errnoBadf }},
	// https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md#-fd_prestat_dir_namefd-fd-path-pointeru8-path_len-size---result-errno
	{name: "fd_prestat_dir_name", names: []string{"fd", "path", "path_len"}, allowInit: true, fn: func(_ *VM, s []uint64) { s[0] = errnoNosys }},
}

// instantiateWASI instantiates this host's own wasi_snapshot_preview1
// module (not wazero's, which offers more than Envoy does).
func instantiateWASI(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder("wasi_snapshot_preview1")
	for _, f := range wasiFuncs {
		f.module = "wasi_snapshot_preview1"
		if f.params == nil {
			f.params = params(len(f.names))
		}
		if f.name != "proc_exit" {
			f.results = []api.ValueType{i32}
		}
		export(b, f)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("host: wasi module: %w", err)
	}
	return nil
}

// wasiProcExit only logs, as Envoy does: proxy-wasm-cpp-host's
// wasi_unstable_proc_exit calls context->error("wasi_unstable proc_exit"),
// and Envoy's Context::error logs the message at trace level (it does not
// abort, as ContextBase::error would). The call returns, and the guest goes
// on from there. (During _initialize or _start it is a restricted call,
// which kills the VM before it gets here: the end of a WASI command.)
func wasiProcExit(vm *VM, _ []uint64) { vm.log(LogTrace, "wasi_unstable proc_exit") }

// wasiFdClose only logs, and answers success, as Envoy does:
// wasi_unstable_fd_close calls context->error("wasi_unstable fd_close")
// (a trace line, see wasiProcExit) and returns 0, whatever the descriptor.
func wasiFdClose(vm *VM, s []uint64) {
	vm.log(LogTrace, "wasi_unstable fd_close")
	s[0] = errnoSuccess
}

// wasiZeroSizes answers args_sizes_get and environ_sizes_get: none.
func wasiZeroSizes(vm *VM, s []uint64) {
	if !vm.mem.WriteUint32Le(uint32(s[0]), 0) || !vm.mem.WriteUint32Le(uint32(s[1]), 0) {
		s[0] = errnoFault
		return
	}
	s[0] = errnoSuccess
}

// wasiClockTimeGet supports the realtime and monotonic clocks, as Envoy.
func wasiClockTimeGet(vm *VM, s []uint64) {
	var t uint64
	switch uint32(s[0]) {
	case 0:
		t = uint64(vm.plugin.clock.wall().UnixNano())
	case 1:
		t = vm.plugin.clock.monotonic()
	default:
		s[0] = errnoNotsup
		return
	}
	if !vm.mem.WriteUint64Le(uint32(s[2]), t) {
		s[0] = errnoFault
		return
	}
	s[0] = errnoSuccess
}

// wasiFdWrite logs what the guest writes to stdout (info) or stderr
// (error), as proxy-wasm-cpp-host's writevImpl does: the buffers of one
// call make one log line, one trailing newline stripped (so Go's println
// makes a line, not a line and an empty one), an empty write logs nothing,
// and the count written includes the newline.
func wasiFdWrite(vm *VM, s []uint64) {
	fd, iovs, n, out := uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])
	if fd != 1 && fd != 2 {
		s[0] = errnoBadf
		return
	}
	var msg []byte
	for i := range n {
		ptr, ok1 := vm.mem.ReadUint32Le(iovs + 8*i)
		size, ok2 := vm.mem.ReadUint32Le(iovs + 8*i + 4)
		if !ok1 || !ok2 {
			s[0] = errnoFault
			return
		}
		if size == 0 {
			continue
		}
		b, ok := vm.mem.Read(ptr, size)
		if !ok {
			s[0] = errnoFault
			return
		}
		msg = append(msg, b...)
	}
	written := len(msg)
	if written > 0 {
		level := LogInfo
		if fd == 2 {
			level = LogError
		}
		vm.log(level, string(bytes.TrimSuffix(msg, []byte("\n"))))
	}
	if !vm.mem.WriteUint32Le(out, uint32(written)) {
		s[0] = errnoFault
		return
	}
	s[0] = errnoSuccess
}

// wasiRandomGet fills the buffer; Envoy refuses more than 64 KiB.
func wasiRandomGet(vm *VM, s []uint64) {
	if uint32(s[1]) > 65536 {
		s[0] = errnoInval
		return
	}
	b, ok := vm.mem.Read(uint32(s[0]), uint32(s[1]))
	if !ok {
		s[0] = errnoFault
		return
	}
	rand.Read(b)
	s[0] = errnoSuccess
}

// wasiPollOneoff counts the call and answers ENOSYS (older Envoy) or 0
// events (newer Envoy).
func wasiPollOneoff(vm *VM, s []uint64) {
	vm.pollCalls.Add(1)
	if vm.plugin.opts.poll == PollOneoffENOSYS {
		s[0] = errnoNosys
		return
	}
	if !vm.mem.WriteUint32Le(uint32(s[3]), 0) {
		s[0] = errnoFault
		return
	}
	s[0] = errnoSuccess
}

// wasiFdFdstatGet describes stdout and stderr as write-only character
// streams (24 bytes, only fs_rights_base set), as Envoy does.
func wasiFdFdstatGet(vm *VM, s []uint64) {
	fd := uint32(s[0])
	if fd != 1 && fd != 2 {
		s[0] = errnoBadf
		return
	}
	var st [24]byte
	st[8] = 64 // fs_rights_base: FD_WRITE
	if !vm.mem.Write(uint32(s[1]), st[:]) {
		s[0] = errnoFault
		return
	}
	s[0] = errnoSuccess
}
