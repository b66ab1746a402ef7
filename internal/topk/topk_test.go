package topk

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestSketch_findsTheHeavyHittersOfASkewedStream(t *testing.T) {
	s := New(40)
	// 1,000 from a scanner and 300 from a forgotten partner, hidden among
	// 5,000 distinct origins seen once each, interleaved.
	for i := range 5000 {
		s.Add("https://o" + strconv.Itoa(i) + ".example")
		if i%5 == 0 {
			s.Add("https://scanner.example")
		}
		if i%17 == 0 {
			s.Add("https://partner.example")
		}
	}
	top := s.Top(nil, 2)
	if len(top) != 2 || top[0].Key != "https://scanner.example" || top[1].Key != "https://partner.example" {
		t.Fatalf("top 2 = %+v", top)
	}
	for _, it := range top {
		want := map[string]uint64{"https://scanner.example": 1000, "https://partner.example": 295}[it.Key]
		if it.Count < want || it.Count-it.Err > want {
			t.Errorf("%s: count %d, err %d; true count %d is not within [count-err, count]", it.Key, it.Count, it.Err, want)
		}
	}
	if s.Total() != 5000+1000+295 {
		t.Errorf("Total = %d", s.Total())
	}
	s.Reset()
	if s.Total() != 0 || len(s.Top(nil, 5)) != 0 {
		t.Error("Reset left entries")
	}
}

func TestSketch_truncatesKeysAndAllocatesNothing(t *testing.T) {
	s := New(4)
	long := "https://" + strings.Repeat("a", 1000) + ".example"
	s.Add(long)
	s.Add(long[:KeyLen] + "different tail")
	if top := s.Top(nil, 4); len(top) != 1 || top[0].Count != 2 || len(top[0].Key) != KeyLen || !top[0].Cut {
		t.Errorf("top = %+v", top)
	}
	keys := []string{"a", "b", "c", "d", "e", long}
	i := 0
	if n := testing.AllocsPerRun(1000, func() { s.Add(keys[i%len(keys)]); i++ }); n != 0 {
		t.Errorf("Add: %v allocations; want 0", n)
	}
}

// TestSketch_guarantees checks Space-Saving's guarantees on random skewed
// streams of many distinct strings, which make the sketch replace entries
// all the time: the total; every entry's count bounds its string's true
// count from above, and count minus err from below; every string counted
// more than total/slots times has an entry; and every entry is found by
// its string (the index survives the replacements).
func TestSketch_guarantees(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 20 {
		slots := 1 + rng.IntN(50)
		s := New(slots)
		truth := map[string]uint64{}
		n := 2000 + rng.IntN(5000)
		for range n {
			var k string
			if rng.IntN(3) == 0 {
				k = "hot" + strconv.Itoa(rng.IntN(5))
			} else {
				k = "cold" + strconv.Itoa(rng.IntN(100000))
			}
			s.Add(k)
			truth[k]++
		}
		if s.Total() != uint64(n) {
			t.Fatalf("round %d: Total = %d; want %d", round, s.Total(), n)
		}
		top := s.Top(nil, slots)
		seen := map[string]bool{}
		for _, it := range top {
			seen[it.Key] = true
			if tc := truth[it.Key]; it.Count < tc || it.Count-it.Err > tc {
				t.Fatalf("round %d: %q counted %d (err %d); true count %d", round, it.Key, it.Count, it.Err, tc)
			}
		}
		for k, tc := range truth {
			if tc > uint64(n)/uint64(slots) && !seen[k] {
				t.Fatalf("round %d: %q, counted %d times of %d, has no entry among %d slots", round, k, tc, n, slots)
			}
		}
		for _, it := range top {
			before := s.Total()
			s.Add(it.Key)
			if after := s.Top(nil, slots); !containsCount(after, it.Key, it.Count+1) {
				t.Fatalf("round %d: adding %q again did not find its entry (total %d)", round, it.Key, before)
			}
		}
	}
}

func containsCount(items []Item, key string, count uint64) bool {
	for _, it := range items {
		if it.Key == key && it.Count == count {
			return true
		}
	}
	return false
}

// BenchmarkAdd compares a stream of one origin with a stream of distinct
// ones on a full sketch of the report's default size (4 x 20 slots):
// a scanner's random origins must cost about what one origin does.
//
//	go test -bench BenchmarkAdd ./internal/topk/
func BenchmarkAdd(b *testing.B) {
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = "https://probe-" + strconv.Itoa(i) + ".scanner.example"
	}
	for _, bc := range []struct {
		name string
		keys []string
	}{{"stream=one", keys[:1]}, {"stream=distinct", keys}} {
		b.Run(bc.name, func(b *testing.B) {
			s := New(80)
			for _, k := range keys[:200] {
				s.Add(k) // full
			}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				s.Add(bc.keys[i%len(bc.keys)])
				i++
			}
		})
	}
}
