package host

import (
	"errors"
	"fmt"
	"time"
)

// This file holds a configuration update in a running VM, as Envoy applies
// it: a canary, a new root context beside the old one, and the old one's
// retirement once its streams are done.

// root is one root (plugin) context of the VM: one plugin configuration.
type root struct {
	id       uint32
	inFlight int  // streams started under it and not yet deleted
	retiring bool // a newer root serves new streams: retire at inFlight 0
	retired  bool // proxy_on_done ran (and proxy_on_delete, unless pending)
	pending  bool // proxy_on_done returned false: Envoy waits for proxy_done

	tickPeriod uint32    // proxy_set_tick_period_milliseconds; 0: no ticks
	nextTick   time.Time // when the next tick is due
}

// Reconfigure applies a new plugin configuration to the running VM, as
// Envoy does on a configuration update (an xDS push, an Istio WasmPlugin
// edit), following proxy-wasm-cpp-host (src/wasm.cc):
//
//  1. The canary (WasmHandleBase::canary): a fresh instance of the module,
//     started and configured with config, then discarded. If it fails, the
//     update is refused: Reconfigure returns its error (wrapping
//     [ErrConfigRefused] when proxy_on_configure returned false), and the
//     VM goes on serving with the configuration it had, untouched. The
//     canary's log lines are added to the VM's, as they reach Envoy's log.
//  2. A new root context in this VM (getOrCreateThreadLocalPlugin, then
//     WasmBase::start): proxy_on_context_create(id, 0) under the next
//     context ID, proxy_on_vm_start, proxy_on_configure. Streams started
//     from now on belong to it. Its metric definitions repeat the old
//     root's: each gets a new metric ID, for the same counter (Envoy keeps
//     one stat per name in the scope, under the "wasmcustom." namespace).
//  3. The old root retires when no stream started under it is still in
//     flight (each stream holds the plugin handle of its configuration until
//     it is destroyed; the handle's destructor calls
//     WasmBase::startShutdown): proxy_on_done(old) and, when it returns
//     true, proxy_on_delete(old). Until then the old root's streams go on
//     under it, with the old policy.
//
// Reconfigure needs a configured VM. If the new root's configuration fails
// in the VM although the canary passed, the error is returned and the old
// root keeps serving.
func (vm *VM) Reconfigure(config []byte) error {
	canary, err := vm.plugin.NewVM(vm.ctx)
	if err != nil {
		return fmt.Errorf("host: canary: %w", err)
	}
	canaryErr := canary.Configure(config)
	canaryLogs := canary.AllLogs()
	canary.Close(vm.ctx)

	vm.mu.Lock()
	defer vm.mu.Unlock()
	for _, e := range canaryLogs {
		vm.retain(e) // the sink, shared by the canary, saw them already
	}
	if vm.failed != nil {
		return vm.failed
	}
	if !vm.configured {
		return errors.New("host: Reconfigure before Configure")
	}
	if canaryErr != nil {
		return fmt.Errorf("host: the canary refused the configuration, which is not applied: %w", canaryErr)
	}
	r, err := vm.startRoot(config)
	if err != nil {
		return fmt.Errorf("host: the new root context %d: %w", vm.nextID-1, err)
	}
	old := vm.root
	vm.root = r
	vm.reconfigs++
	old.retiring = true
	if old.inFlight == 0 {
		return vm.retire(old)
	}
	return nil
}

// retire ends a root context that serves no stream any more:
// proxy_on_done, then proxy_on_delete unless the plugin asked to finish
// later (proxy_on_done returned false; it would call proxy_done, which this
// host does not emulate, so the root stays pending).
func (vm *VM) retire(r *root) error {
	r.retired = true
	vm.plugin.cancelCalls(r)
	vm.inRoot = r
	defer func() { vm.inRoot = nil }()
	done, err := vm.call1(vm.fnDone, uint64(r.id))
	if err != nil {
		return err
	}
	if vm.fnDone != nil && uint32(done) == 0 {
		r.pending = true
		return nil
	}
	return vm.callLocked(vm.fnDelete, uint64(r.id))
}

// streamEnded counts a stream of r out, and retires r when it was the last
// stream of a replaced configuration.
func (vm *VM) streamEnded(r *root) error {
	r.inFlight--
	if r.retiring && !r.retired && r.inFlight == 0 {
		return vm.retire(r)
	}
	return nil
}

// RootID returns the ID of the root context new streams start under: 1
// after [VM.Configure], a later one after each [VM.Reconfigure].
func (vm *VM) RootID() uint32 {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if vm.root == nil {
		return 0
	}
	return vm.root.id
}

// RootContexts returns the IDs of the root contexts not yet deleted, in
// the order they were created: more than one while streams of a replaced
// configuration are in flight.
func (vm *VM) RootContexts() []uint32 {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	var out []uint32
	for _, r := range vm.roots {
		if !r.retired || r.pending {
			out = append(out, r.id)
		}
	}
	return out
}

// Reconfigurations returns how many [VM.Reconfigure] calls were applied.
func (vm *VM) Reconfigurations() int {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.reconfigs
}
