package grant

// Cache is one VM's verification state: a fixed table of tokens whose
// signature verified, and a budget of signature verifications per second.
// A legitimate client sends the same token on its preflight and on its
// actual requests: it pays one verification, not one per request. A flood
// of forged tokens pays at most the budget each second, the rest being
// refused as Busy at about the cost of an ordinary request.
//
// Only successes enter the table. A forged token can never be taken for
// a verified one: a hit compares the whole token, byte for byte, and the
// key that verified it. Caching failures would save nothing (a forger
// varies the signature at no cost, so a failure never repeats) and would
// let a flood evict the tokens of legitimate clients.
//
// A Cache is used by one goroutine at a time (a VM runs one callback at a
// time); its storage is allocated once, by NewCache, and every method
// allocates nothing. The methods of a nil *Cache cache nothing and spend
// no budget.
type Cache struct {
	slots []cacheSlot // cacheSets × cacheWays

	perSecond int   // the budget
	second    int64 // the second the budget is counted in
	spent     int   // verifications in that second
}

// Bounds of the table.
const (
	cacheSets = 256 // one byte of the signature picks the set
	cacheWays = 2
	// CacheSize is how many verified tokens a Cache holds.
	CacheSize = cacheSets * cacheWays
	// CacheTokenMax is the longest token a Cache holds; a longer one is
	// verified each time it comes (it is still valid).
	CacheTokenMax = 384
)

type cacheSlot struct {
	key   *PublicKey // the key that verified the token; nil: the slot is free
	until int64      // the first second the token is expired (expiry + skew)
	used  int64      // the second it was last verified or hit
	n     int        // the token's length
	token [CacheTokenMax]byte
}

// NewCache returns a Cache that verifies at most perSecond signatures in
// any one second (by Want.Now); perSecond < 1 is taken as 1.
func NewCache(perSecond int) *Cache {
	return &Cache{slots: make([]cacheSlot, CacheSize), perSecond: max(perSecond, 1)}
}

// lookup returns the set that token, signed with sig, belongs to, and
// whether it holds token as verified by key and not expired at now. The
// set is chosen by the signature's first bytes: R, a hash output, is
// uniform over the tokens of a key; a forger choosing it only chooses
// which set misses.
func (c *Cache) lookup(token string, key *PublicKey, sig *[64]byte, now int64) (set []cacheSlot, hit bool) {
	if c == nil {
		return nil, false
	}
	i := int(sig[0]) * cacheWays
	set = c.slots[i : i+cacheWays]
	for w := range set {
		s := &set[w]
		if s.key == key && now < s.until && string(s.token[:s.n]) == token {
			s.used = now
			return set, true
		}
	}
	return set, false
}

// spend takes one verification from the budget of the second now, and
// reports whether there was one left.
func (c *Cache) spend(now int64) bool {
	if c == nil {
		return true
	}
	if now != c.second {
		c.second, c.spent = now, 0
	}
	if c.spent >= c.perSecond {
		return false
	}
	c.spent++
	return true
}

// add records in set that key verified token, valid until the second
// until: in a free or expired way (the table holds nothing past its
// token's expiry), else in the way used least recently.
func (c *Cache) add(set []cacheSlot, token string, key *PublicKey, until int64) {
	if c == nil || len(token) > CacheTokenMax {
		return
	}
	s := &set[0]
	for w := range set {
		if t := &set[w]; t.key == nil || c.second >= t.until {
			s = t
			break
		} else if t.used < s.used {
			s = t
		}
	}
	s.key, s.until, s.used, s.n = key, until, c.second, copy(s.token[:], token)
}
