package host

import (
	"encoding/binary"
	"slices"
	"strconv"
	"testing"
)

// TestProbe_reconfigure follows an update through the VM: a canary VM
// configured first, then a new root context in the VM under the next
// context ID, streams in flight kept on the old root, and the old root
// retired (proxy_on_done, proxy_on_delete) when its last stream ends.
func TestProbe_reconfigure(t *testing.T) {
	type call struct {
		vm     *VM
		export string
		id     uint32
	}
	var calls []call
	vm := newProbeVM(t, probe{}, WithCallTrace(func(v *VM, export string, id uint32) {
		calls = append(calls, call{v, export, id})
	}))
	if got := vm.RootID(); got != 1 {
		t.Fatalf("RootID after Configure: %d; want 1", got)
	}
	inFlight, err := vm.StartStream(Request{Method: "GET", Authority: "a", Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	calls = nil
	if err := vm.Reconfigure([]byte(`{"new":true}`)); err != nil {
		t.Fatal(err)
	}
	var canary, here []string
	for _, c := range calls {
		if c.vm == vm {
			here = append(here, c.export+"("+strconv.Itoa(int(c.id))+")")
		} else {
			canary = append(canary, c.export+"("+strconv.Itoa(int(c.id))+")")
		}
	}
	if want := []string{"_initialize(0)", "proxy_on_context_create(1)", "proxy_on_vm_start(1)", "proxy_on_configure(1)"}; !slices.Equal(canary, want) {
		t.Errorf("canary: got %v; want %v", canary, want)
	}
	if want := []string{"proxy_on_context_create(3)", "proxy_on_vm_start(3)", "proxy_on_configure(3)"}; !slices.Equal(here, want) {
		t.Errorf("the VM: got %v; want a new root context 3 and no retirement while stream 2 is in flight", here)
	}
	if got := vm.RootContexts(); !slices.Equal(got, []uint32{1, 3}) {
		t.Errorf("RootContexts with a stream in flight: %v; want [1 3]", got)
	}
	next, err := vm.StartStream(Request{Method: "GET", Authority: "a", Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if inFlight.RootID() != 1 || next.RootID() != 3 {
		t.Errorf("roots of the streams: %d and %d; want 1 (in flight) and 3 (new)", inFlight.RootID(), next.RootID())
	}
	calls = nil
	if _, err := inFlight.Finish(nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range calls {
		got = append(got, c.export+"("+strconv.Itoa(int(c.id))+")")
	}
	if want := []string{"proxy_on_response_headers(2)", "proxy_on_log(2)", "proxy_on_done(2)", "proxy_on_delete(2)", "proxy_on_done(1)", "proxy_on_delete(1)"}; !slices.Equal(got, want) {
		t.Errorf("the old root's last stream: got %v; want %v", got, want)
	}
	if got := vm.RootContexts(); !slices.Equal(got, []uint32{3}) {
		t.Errorf("RootContexts: %v; want [3]", got)
	}
	if _, err := next.Finish(nil); err != nil {
		t.Fatal(err)
	}
	// Without streams in flight, the old root retires at once.
	calls = nil
	if err := vm.Reconfigure(nil); err != nil {
		t.Fatal(err)
	}
	if got := vm.RootContexts(); !slices.Equal(got, []uint32{5}) || vm.Reconfigurations() != 2 {
		t.Errorf("after an idle update: RootContexts %v, %d updates; want [5], 2", got, vm.Reconfigurations())
	}
	if err := vm.Reconfigure(nil); err != nil || vm.RootID() != 6 {
		t.Errorf("a third update: %v, root %d", err, vm.RootID())
	}
}

// TestProbe_metrics_defined_again_share_the_counter follows Envoy's
// Context::defineMetric: every definition gets a new ID, and IDs of one
// name and type count into one stat, so a new root context that defines
// its metrics again counts on where the old one left off.
func TestProbe_metrics_defined_again_share_the_counter(t *testing.T) {
	vm := newProbeVM(t, probe{})
	define := func(kind uint32) uint32 {
		s := []uint64{uint64(kind), addrHello, 5, addrRet}
		vm.proxyDefineMetric(s)
		if s[0] != statusOK {
			t.Fatalf("proxy_define_metric: status %d", s[0])
		}
		return vm.u32(t, addrRet)
	}
	a, b, gauge := define(0), define(0), define(1)
	if a == b || a == gauge || b == gauge {
		t.Fatalf("IDs %d, %d (counter twice) and %d (gauge): want three IDs", a, b, gauge)
	}
	for _, id := range []uint32{a, b, b} {
		s := []uint64{uint64(id), 1}
		vm.proxyIncrementMetric(s)
		if s[0] != statusOK {
			t.Fatalf("proxy_increment_metric(%d): status %d", id, s[0])
		}
	}
	if n, ok := vm.Metric("hello"); !ok || n != 3 {
		t.Errorf("the counter: %d, %v; want 3, counted through both IDs", n, ok)
	}
	s := []uint64{uint64(a), 200}
	vm.proxyGetMetric(s)
	if v, _ := vm.mem.Read(200, 8); s[0] != statusOK || binary.LittleEndian.Uint64(v) != 3 {
		t.Errorf("proxy_get_metric through the first ID: status %d, %d; want 3", s[0], binary.LittleEndian.Uint64(v))
	}
}
