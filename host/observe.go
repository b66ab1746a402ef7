package host

import "fmt"

// This file holds what a test or tool can read of a VM from outside: the
// guest's logs, its metrics, restricted-callback violations and counters.

// LogLevel is a proxy-wasm log level.
type LogLevel uint32

// The proxy-wasm log levels.
const (
	LogTrace LogLevel = iota
	LogDebug
	LogInfo
	LogWarn
	LogError
	LogCritical
)

// String returns the level in lower case.
func (l LogLevel) String() string {
	switch l {
	case LogTrace:
		return "trace"
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warn"
	case LogError:
		return "error"
	case LogCritical:
		return "critical"
	}
	return fmt.Sprintf("level(%d)", uint32(l))
}

// LogEntry is one message the guest logged, through proxy_log or by writing
// to stdout (info) or stderr (error).
type LogEntry struct {
	Level   LogLevel
	Message string
}

// metric is one proxy_define_metric metric.
type metric struct {
	name  string
	kind  uint32 // 0 counter, 1 gauge, 2 histogram
	value uint64 // counter or gauge value; histogram: number of records
	sum   uint64 // histogram: sum of recorded values
}

// log records one guest log message.
func (vm *VM) log(level LogLevel, msg string) {
	if s := vm.plugin.opts.sink; s != nil {
		s(level, msg)
	}
	vm.retain(LogEntry{Level: level, Message: msg})
}

// retain keeps a log entry, within the bound of WithMaxLogs.
func (vm *VM) retain(e LogEntry) {
	if len(vm.logs) < vm.plugin.opts.maxLogs {
		vm.logs = append(vm.logs, e)
	} else {
		vm.dropped++
	}
}

// Logs returns the retained messages logged at exactly level, oldest first.
func (vm *VM) Logs(level LogLevel) []string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	var out []string
	for _, e := range vm.logs {
		if e.Level == level {
			out = append(out, e.Message)
		}
	}
	return out
}

// AllLogs returns every retained log entry, oldest first.
func (vm *VM) AllLogs() []LogEntry {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return append([]LogEntry(nil), vm.logs...)
}

// ResetLogs forgets the retained log entries.
func (vm *VM) ResetLogs() {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.logs, vm.dropped = vm.logs[:0], 0
}

// DroppedLogs returns how many entries were not retained (see
// [WithMaxLogs]).
func (vm *VM) DroppedLogs() int {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.dropped
}

// Metric returns the value of the metric the guest defined under name:
// a counter's or gauge's value, or a histogram's number of records. ok is
// false when no such metric was defined.
func (vm *VM) Metric(name string) (value uint64, ok bool) {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	for _, m := range vm.metrics {
		if m.name == name {
			return m.value, true
		}
	}
	return 0, false
}

// Metrics returns every defined metric's value (as [VM.Metric]) by name.
func (vm *VM) Metrics() map[string]uint64 {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	out := make(map[string]uint64, len(vm.metrics))
	for _, m := range vm.metrics {
		out[m.name] = m.value
	}
	return out
}

// Violations returns the restricted-callback violations so far.
func (vm *VM) Violations() []Violation {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return append([]Violation(nil), vm.violations...)
}

// PollOneoffCalls returns how many times the guest called poll_oneoff.
func (vm *VM) PollOneoffCalls() uint64 { return vm.pollCalls.Load() }

// MemorySize returns the size of the guest's linear memory in bytes. It
// never shrinks.
func (vm *VM) MemorySize() uint32 {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.mem.Size()
}

// Err returns the error that killed the VM, or nil while it is alive.
func (vm *VM) Err() error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.failed
}

// TickPeriod returns the tick period the guest last set with
// proxy_set_tick_period_milliseconds (0: none). Ticks are delivered by
// [VM.Tick], or by [Plugin.Advance] under a fake clock.
func (vm *VM) TickPeriod() uint32 {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.tickPeriod
}

// StreamsStarted returns how many streams the VM has started.
func (vm *VM) StreamsStarted() int {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.streams
}
