//go:build wasip1

package abi

import "unsafe"

// proxy-wasm's MetricType for a counter and a gauge.
const (
	metricCounter = 0
	metricGauge   = 1
)

// DefineCounter defines a counter metric and returns its ID; ok is false when
// the host refuses. Unlike the SDK's DefineCounterMetric it neither panics
// nor formats with fmt, which keeps fmt and reflect (about 0.2 MB) out of the
// plugin.
func DefineCounter(name string) (id uint32, ok bool) {
	st := (*host)(nil).ProxyDefineMetric(metricCounter, unsafe.StringData(name), len(name), &id)
	return id, st == 0
}

// DefineGauge defines a gauge metric and returns its ID; ok is false when
// the host refuses.
func DefineGauge(name string) (id uint32, ok bool) {
	st := (*host)(nil).ProxyDefineMetric(metricGauge, unsafe.StringData(name), len(name), &id)
	return id, st == 0
}

// RecordMetric sets a gauge; it reports false when the host refuses.
func RecordMetric(id uint32, v uint64) bool {
	return (*host)(nil).ProxyRecordMetric(id, v) == 0
}

// IncrementCounter adds delta to a counter; it reports false when the host
// refuses.
func IncrementCounter(id uint32, delta int64) bool {
	return (*host)(nil).ProxyIncrementMetric(id, delta) == 0
}
