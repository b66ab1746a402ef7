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

func (c metric) increment() error {
	if !abi.IncrementCounter(uint32(c), 1) {
		return errMetric
	}
	return nil
}
