package host

import "fmt"

// CallExport calls the guest's exported function name with args (at most
// three) and returns its first result (0 if it has none). It is meant for
// test-only exports, such as the counters of a build tagged corsbench; Envoy
// never calls such functions. The call runs outside any proxy-wasm callback,
// so the guest may not read stream state; a trap kills the VM, as any other.
func (vm *VM) CallExport(name string, args ...uint64) (uint64, error) {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	fn := vm.mod.ExportedFunction(name)
	if fn == nil {
		return 0, fmt.Errorf("host: the module exports no function %q", name)
	}
	d := fn.Definition()
	if len(d.ParamTypes()) != len(args) || len(args) > len(vm.stack) || len(d.ResultTypes()) > len(vm.stack) {
		return 0, fmt.Errorf("host: export %q has signature %s; called with %d arguments", name, sigOf(d), len(args))
	}
	return vm.call1(fn, args...)
}
