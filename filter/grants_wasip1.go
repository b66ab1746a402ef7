//go:build wasip1

package main

import (
	"unsafe"

	"github.com/corsfilter/corsfilter/filter/internal/abi"
)

// replaceRequestPath sets :path (proxy_replace_header_map_value on the
// request headers), from the bytes as they are.
func replaceRequestPath(path []byte) error {
	if len(path) == 0 || abi.ReplaceHeader(abi.MapRequestHeaders, ":path", unsafe.String(&path[0], len(path))) != abi.StatusOK {
		return errSetHeader
	}
	return nil
}
