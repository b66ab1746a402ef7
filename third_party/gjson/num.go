//go:build !wasip1

package gjson

import "strconv"

// parseNum converts a JSON number for tonum: strconv.ParseFloat, with its
// error ignored, as upstream does. num_wasip1.go has the plugin's.
func parseNum(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
