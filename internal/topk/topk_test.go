package topk

import (
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
	if top := s.Top(nil, 4); len(top) != 1 || top[0].Count != 2 || len(top[0].Key) != KeyLen {
		t.Errorf("top = %+v", top)
	}
	keys := []string{"a", "b", "c", "d", "e", long}
	i := 0
	if n := testing.AllocsPerRun(1000, func() { s.Add(keys[i%len(keys)]); i++ }); n != 0 {
		t.Errorf("Add: %v allocations; want 0", n)
	}
}
