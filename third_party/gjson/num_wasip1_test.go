//go:build wasip1

package gjson

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestParseNum_wasip1 checks the plugin's number conversion against
// strconv.ParseFloat: equal on the fast path, integers and short decimals,
// and within a few ULP beyond it.
func TestParseNum_wasip1(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var s string
		kind := rng.IntN(3)
		switch kind {
		case 0:
			s = strconv.FormatInt(rng.Int64N(1<<53)-1<<52, 10)
		case 1:
			s = strconv.FormatFloat(float64(rng.Int64N(1e9))/1e3, 'f', -1, 64)
		default:
			s = strconv.FormatFloat(rng.NormFloat64()*math.Pow10(rng.IntN(40)-20), 'g', -1, 64)
		}
		want, _ := strconv.ParseFloat(s, 64)
		got := parseNum(s)
		if kind < 2 && got != want {
			t.Fatalf("parseNum(%q) = %v; strconv.ParseFloat gives %v, and the fast path must agree exactly", s, got, want)
		}
		if got != want && math.Abs(got-want) > 4*math.Abs(math.Nextafter(want, math.Inf(1))-want) {
			t.Fatalf("parseNum(%q) = %v; strconv.ParseFloat gives %v", s, got, want)
		}
	}
}
