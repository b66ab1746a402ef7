package host

import "sync"

// This file holds proxy-wasm shared data: a key-value store that every VM
// of a plugin sees, as Envoy's workers share one store per vm_id
// (proxy-wasm-cpp-host src/shared_data.cc), with its compare-and-swap.

// sharedData is one plugin's store. Each value carries a CAS: a number
// from one counter of the store that starts at 1, skips 0 and is drawn
// anew on every write (SharedData::nextCas).
type sharedData struct {
	mu      sync.Mutex
	entries map[string]sharedEntry
	nextCas uint32
}

type sharedEntry struct {
	value []byte
	cas   uint32
}

func (d *sharedData) get(key string) (sharedEntry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[key]
	return e, ok
}

// set writes value under key, as SharedData::set does: a cas of 0 writes
// whatever the current value; another cas must be the current value's,
// else the write is refused with CasMismatch. A key not yet written is
// written whatever the cas.
func (d *sharedData) set(key string, value []byte, cas uint32) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.entries == nil {
		d.entries, d.nextCas = map[string]sharedEntry{}, 1
	}
	if e, ok := d.entries[key]; ok && cas != 0 && cas != e.cas {
		return statusCasMismatch
	}
	d.entries[key] = sharedEntry{value: append([]byte(nil), value...), cas: d.nextCas}
	if d.nextCas++; d.nextCas == 0 {
		d.nextCas++
	}
	return statusOK
}

// proxyGetSharedData implements proxy_get_shared_data(key_data, key_size,
// return_value_data, return_value_size, return_cas): NotFound for a key
// never written.
func (vm *VM) proxyGetSharedData(s []uint64) {
	key, ok := vm.read(uint32(s[0]), uint32(s[1]))
	if !ok {
		s[0] = statusInvalidMemoryAccess
		return
	}
	e, found := vm.plugin.shared.get(string(key))
	if !found {
		s[0] = statusNotFound
		return
	}
	if st := vm.copyOut(uint32(s[2]), uint32(s[3]), string(e.value)); st != statusOK {
		s[0] = st
		return
	}
	if !vm.mem.WriteUint32Le(uint32(s[4]), e.cas) {
		s[0] = statusInvalidMemoryAccess
		return
	}
	s[0] = statusOK
}

// proxySetSharedData implements proxy_set_shared_data(key_data, key_size,
// value_data, value_size, cas).
func (vm *VM) proxySetSharedData(s []uint64) {
	key, ok1 := vm.read(uint32(s[0]), uint32(s[1]))
	value, ok2 := vm.read(uint32(s[2]), uint32(s[3]))
	if !ok1 || !ok2 {
		s[0] = statusInvalidMemoryAccess
		return
	}
	s[0] = vm.plugin.shared.set(string(key), value, uint32(s[4]))
}

// SharedData returns the value stored under key and its CAS, as the guest
// would read it; ok is false for a key never written.
func (p *Plugin) SharedData(key string) (value []byte, cas uint32, ok bool) {
	e, ok := p.shared.get(key)
	return append([]byte(nil), e.value...), e.cas, ok
}

// SetSharedData writes key as a guest would with proxy_set_shared_data,
// and reports whether the CAS matched.
func (p *Plugin) SetSharedData(key string, value []byte, cas uint32) bool {
	return p.shared.set(key, value, cas) == statusOK
}
