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

func (c metric) increment() (err error) {
	defer func() {
		if recover() != nil {
			err = errMetric
		}
	}()
	proxywasm.MetricCounter(c).Increment(1)
	return nil
}
