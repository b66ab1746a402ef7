//go:build !linux

package e2e

import "time"

var epoch = time.Now()

// threadCPUTime falls back to monotonic wall time where the thread CPU
// clock is not wired up.
func threadCPUTime() time.Duration { return time.Since(epoch) }
