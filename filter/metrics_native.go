//go:build !wasip1

package main

import (
	"errors"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
)

// metric is a proxy-wasm counter metric. Natively (under the SDK's
// proxytest) it uses the SDK's helpers, turning their panics into errors.
type metric proxywasm.MetricCounter

var errMetric = errors.New("the host refused a metric call")

func defineCounter(name string) (c metric, err error) {
	defer func() {
		if recover() != nil {
			err = errMetric
		}
	}()
	return metric(proxywasm.DefineCounterMetric(name)), nil
}

func (c metric) increment() error { return c.add(1) }

func (c metric) add(n int64) (err error) {
	defer func() {
		if recover() != nil {
			err = errMetric
		}
	}()
	proxywasm.MetricCounter(c).Increment(uint64(n))
	return nil
}

// gauge is a proxy-wasm gauge metric. The SDK's gauges only add, so a
// value is recorded as the difference from the current one.
type gauge proxywasm.MetricGauge

func defineGauge(name string) (g gauge, err error) {
	defer func() {
		if recover() != nil {
			err = errMetric
		}
	}()
	return gauge(proxywasm.DefineGaugeMetric(name)), nil
}

func (g gauge) record(v uint64) (err error) {
	defer func() {
		if recover() != nil {
			err = errMetric
		}
	}()
	m := proxywasm.MetricGauge(g)
	m.Add(int64(v) - m.Value())
	return nil
}
