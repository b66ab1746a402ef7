//go:build wasip1

package main

import (
	"errors"

	"github.com/corsfilter/corsfilter/filter/internal/abi"
)

// metric is a proxy-wasm counter metric. In the plugin it calls the host
// through the ABI layer, so that the SDK's metric helpers, which panic and
// format with fmt, are not linked.
type metric uint32

var errMetric = errors.New("the host refused a metric call")

func defineCounter(name string) (metric, error) {
	id, ok := abi.DefineCounter(name)
	if !ok {
		return 0, errMetric
	}
	return metric(id), nil
}

func (c metric) increment() error { return c.add(1) }

func (c metric) add(n int64) error {
	if !abi.IncrementCounter(uint32(c), n) {
		return errMetric
	}
	return nil
}

// gauge is a proxy-wasm gauge metric.
type gauge uint32

func defineGauge(name string) (gauge, error) {
	id, ok := abi.DefineGauge(name)
	if !ok {
		return 0, errMetric
	}
	return gauge(id), nil
}

func (g gauge) record(v uint64) error {
	if !abi.RecordMetric(uint32(g), v) {
		return errMetric
	}
	return nil
}
