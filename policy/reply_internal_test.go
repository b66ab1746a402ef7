package policy

import (
	"math/rand/v2"
	"testing"
)

// TestCameBack checks LocalReply's fast path against its full one: on
// replies built from the decision's own headers, reordered, dropped,
// doubled, re-cased, with other values and with headers a route adds,
// cameBack holds only where the full path finds nothing to edit, and it
// holds on the reply as sent.
func TestCameBack(t *testing.T) {
	own := []Header{
		{"access-control-allow-origin", "https://app.example.com"},
		{"access-control-allow-credentials", "true"},
		{"x-cors-debug", "preflight allowed"},
		{"access-control-allow-methods", "PUT"},
	}
	pool := append(append([]Header(nil), own...),
		Header{"Access-Control-Allow-Origin", "https://app.example.com"},
		Header{"access-control-allow-origin", "*"},
		Header{"access-control-max-age", "600"},
		Header{"vary", "Origin"},
		Header{"content-length", "0"},
		Header{"accept-ranges-extended-x", "bytes"},
		Header{"authorization-hint-xxxxx", "x"},
	)
	asSent := append(append([]Header(nil), own...), Header{"vary", "Origin"}, Header{"content-length", "0"})
	if !cameBack(asSent, own) {
		t.Fatalf("cameBack(%v) is false on the reply as sent", asSent)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var e Edits
	fast := 0
	for range 20000 {
		reply := make([]Header, rng.IntN(8))
		for i := range reply {
			reply[i] = pool[rng.IntN(len(pool))]
		}
		if rng.IntN(3) == 0 {
			reply = append([]Header(nil), asSent...)
			i, j := rng.IntN(len(reply)), rng.IntN(len(reply))
			reply[i], reply[j] = reply[j], reply[i]
		}
		if !cameBack(reply, own) {
			continue
		}
		fast++
		localReplyEdits(reply, own, &e)
		if len(e.Remove) != 0 || len(e.Set) != 0 || e.Overridden {
			t.Fatalf("cameBack(%v) holds, but the full path edits: remove %v, set %v", reply, e.Remove, e.Set)
		}
	}
	if fast < 1000 {
		t.Fatalf("only %d replies took the fast path: the test checks too little", fast)
	}
}
