package host

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// This file holds time: the clock the guest reads (clock_time_get), which
// a test may make fake, and the plugin's periodic work on it, the ticks
// Envoy delivers to each root context that asked for them
// (proxy_set_tick_period_milliseconds, proxy_on_tick), and the answers to
// proxy_http_call (httpcall.go), which arrive when they are due.

// clock is a plugin's time: the real one, or a fake one that only
// [Plugin.Advance] moves.
type clock struct {
	mu    sync.Mutex
	fake  bool
	start time.Time // the fake clock's start: its monotonic zero
	now   time.Time
}

// WithFakeClock makes the plugin's time a fake clock that starts at start
// and moves only when the test calls [Plugin.Advance], which also delivers
// the ticks and HTTP call answers due on the way. Every VM of the plugin
// reads it, wall and monotonic clocks alike. Default: the real clock, and
// ticks only through [VM.Tick].
func WithFakeClock(start time.Time) Option {
	return func(o *options) { o.fakeStart = start }
}

func (c *clock) wall() time.Time {
	if !c.fake {
		return time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// monotonic returns nanoseconds since an arbitrary origin, never 0.
func (c *clock) monotonic() uint64 {
	if !c.fake {
		return uint64(time.Since(monotonicStart).Nanoseconds()) + 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return uint64(c.now.Sub(c.start).Nanoseconds()) + 1
}

// Now returns the plugin's time: the fake clock's under [WithFakeClock].
func (p *Plugin) Now() time.Time { return p.clock.wall() }

// proxySetTickPeriod implements proxy_set_tick_period_milliseconds for the
// root context of the running callback, as Envoy's Wasm::setTickPeriod:
// the first tick comes one period later, then one every period; 0 stops
// them.
func (vm *VM) proxySetTickPeriod(s []uint64) {
	period := uint32(s[0])
	vm.tickPeriod = period
	r := vm.currentRoot()
	if r == nil {
		s[0] = statusOK
		return
	}
	r.tickPeriod = period
	r.nextTick = vm.plugin.clock.wall().Add(time.Duration(period) * time.Millisecond)
	s[0] = statusOK
}

// currentRoot returns the root context of the running callback: the
// stream's root, or the root being configured, ticked or answered.
func (vm *VM) currentRoot() *root {
	if vm.cur != nil {
		return vm.cur.root
	}
	return vm.inRoot
}

// Tick delivers proxy_on_tick to every root context of the VM that set a
// tick period and is not retired, now, whatever the clock says.
func (vm *VM) Tick() error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	for _, r := range vm.roots {
		if r.tickPeriod > 0 && !r.retired {
			if err := vm.tickLocked(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (vm *VM) tickLocked(r *root) error {
	vm.inRoot = r
	defer func() { vm.inRoot = nil }()
	vm.ticks++
	return vm.callLocked(vm.fnTick, uint64(r.id))
}

// Ticks returns how many proxy_on_tick calls the VM received.
func (vm *VM) Ticks() int {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.ticks
}

// event is one thing due at a time: a tick of a root context, or the
// answer to an HTTP call.
type event struct {
	at   time.Time
	vm   *VM
	root *root
	call *pendingCall
}

// Advance moves the fake clock forward by d, delivering on the way, in
// time order, every tick due to any VM of the plugin and every HTTP call
// answer due (each at its own time, the clock set to it). It returns the
// errors of the VMs that died on the way; the others go on.
func (p *Plugin) Advance(d time.Duration) error {
	if !p.clock.fake {
		return errors.New("host: Advance needs WithFakeClock")
	}
	end := p.clock.wall().Add(d)
	var errs []error
	for {
		ev, ok := p.nextEvent(end)
		if !ok {
			break
		}
		p.clock.mu.Lock()
		if ev.at.After(p.clock.now) {
			p.clock.now = ev.at
		}
		p.clock.mu.Unlock()
		if err := ev.deliver(); err != nil {
			errs = append(errs, fmt.Errorf("host: VM %p at %s: %w", ev.vm, ev.at.Format(time.RFC3339Nano), err))
		}
	}
	p.clock.mu.Lock()
	p.clock.now = end
	p.clock.mu.Unlock()
	return errors.Join(errs...)
}

// nextEvent returns the earliest event due at or before end.
func (p *Plugin) nextEvent(end time.Time) (event, bool) {
	p.mu.Lock()
	vms := slices.Clone(p.vms)
	calls := slices.Clone(p.pending)
	p.mu.Unlock()
	var best event
	found := false
	consider := func(e event) {
		if !e.at.After(end) && (!found || e.at.Before(best.at)) {
			best, found = e, true
		}
	}
	for _, c := range calls {
		consider(event{at: c.due, vm: c.vm, call: c})
	}
	for _, vm := range vms {
		vm.mu.Lock()
		if vm.failed == nil {
			for _, r := range vm.roots {
				if r.tickPeriod > 0 && !r.retired {
					consider(event{at: r.nextTick, vm: vm, root: r})
				}
			}
		}
		vm.mu.Unlock()
	}
	return best, found
}

func (e event) deliver() error {
	if e.call != nil {
		return e.vm.answer(e.call)
	}
	vm := e.vm
	vm.mu.Lock()
	defer vm.mu.Unlock()
	e.root.nextTick = e.root.nextTick.Add(time.Duration(e.root.tickPeriod) * time.Millisecond)
	return vm.tickLocked(e.root)
}
