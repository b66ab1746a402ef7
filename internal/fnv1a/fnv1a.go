// Package fnv1a is the 64-bit FNV-1a hash of a string, as hash/fnv's
// New64a computes it, in a loop that inlines and allocates nothing:
// hash/fnv's interfaces cost cors.wasm more than the hash. The plugin uses
// it for the rollout bucket of an origin, the denied-origins sketch and the
// shared-data key of an origin source.
package fnv1a

// String returns the FNV-1a hash of s.
func String(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
