package regex

// The automaton is a Thompson NFA over runes. Matching never walks its
// epsilon transitions: Compile precomputes, for each rune-consuming state,
// the set of consuming states (and the match state) reachable after it in each
// context an empty-width assertion can observe, so a step is a few bitset ORs.

const (
	instConsume uint8 = iota // one rune of a class, then out
	instSplit                // out and out1
	instAssert               // out if the assertion holds
	instMatch
)

type inst struct {
	op     uint8
	assert nodeOp // instAssert: opBegin, opEnd, opWord or opNoWord
	out    int32
	out1   int32
	cons   int32 // instConsume: index of the consuming state
}

// Contexts: what the empty-width assertions can observe at a position.
const (
	ctxBegin uint8 = 1 << iota // at the start of the text
	ctxEnd                     // at the end of the text
	ctxWord                    // at an ASCII word boundary
)

type compiler struct {
	insts   []inst
	classes []*class // per consuming state
	hasWord bool     // the program has \b or \B
	tooBig  bool     // a limit was exceeded
}

func (c *compiler) add(in inst) int32 {
	if len(c.insts) >= maxInsts {
		c.tooBig = true
		return 0
	}
	c.insts = append(c.insts, in)
	return int32(len(c.insts) - 1)
}

// emit compiles n so that it continues to next, and returns its entry. It
// stops early, with c.tooBig set, when a limit is exceeded.
func (c *compiler) emit(n *node, next int32) int32 {
	if c.tooBig {
		return 0
	}
	switch n.op {
	case opEmpty:
		return next
	case opClass:
		if len(c.classes) >= maxStates {
			c.tooBig = true
			return 0
		}
		c.classes = append(c.classes, n.cls)
		return c.add(inst{op: instConsume, out: next, cons: int32(len(c.classes) - 1)})
	case opBegin, opEnd, opWord, opNoWord:
		c.hasWord = c.hasWord || n.op >= opWord
		return c.add(inst{op: instAssert, assert: n.op, out: next})
	case opCapture:
		return c.emit(n.subs[0], next)
	case opConcat:
		for i := len(n.subs) - 1; i >= 0; i-- {
			next = c.emit(n.subs[i], next)
		}
		return next
	case opAlt:
		entry := c.emit(n.subs[len(n.subs)-1], next)
		for i := len(n.subs) - 2; i >= 0; i-- {
			entry = c.add(inst{op: instSplit, out: c.emit(n.subs[i], next), out1: entry})
		}
		return entry
	}
	// opRepeat.
	sub := n.subs[0]
	cur := next
	if n.max < 0 {
		// x{min,} is min-1 copies of x followed by x+, or x* when min is 0.
		loop := c.add(inst{op: instSplit, out1: next})
		e := c.emit(sub, loop)
		if c.tooBig {
			return 0
		}
		c.insts[loop].out = e
		cur = e
		if n.min == 0 {
			cur = loop
		}
		for i := 1; i < n.min; i++ {
			cur = c.emit(sub, cur)
		}
		return cur
	}
	// x{min,max} is min copies of x followed by max-min nested optional ones.
	for i := n.min; i < n.max; i++ {
		cur = c.add(inst{op: instSplit, out: c.emit(sub, cur), out1: next})
	}
	for i := 0; i < n.min; i++ {
		cur = c.emit(sub, cur)
	}
	return cur
}

// closure adds to set the consuming states, and the match state as bit
// len(c.classes), reachable from pc through epsilon transitions in context ctx.
// mark and stack are scratch space of len(c.insts); gen must differ between
// calls.
func (c *compiler) closure(pc int32, ctx uint8, set []uint64, mark []uint32, gen uint32, stack []int32) {
	mark[pc] = gen
	stack = append(stack[:0], pc)
	for len(stack) > 0 {
		pc = stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		in := &c.insts[pc]
		var outs [2]int32
		n := 0
		switch in.op {
		case instConsume:
			set[in.cons>>6] |= 1 << (in.cons & 63)
		case instMatch:
			b := len(c.classes)
			set[b>>6] |= 1 << (b & 63)
		case instSplit:
			outs, n = [2]int32{in.out, in.out1}, 2
		case instAssert:
			var ok bool
			switch in.assert {
			case opBegin:
				ok = ctx&ctxBegin != 0
			case opEnd:
				ok = ctx&ctxEnd != 0
			case opWord:
				ok = ctx&ctxWord != 0
			case opNoWord:
				ok = ctx&ctxWord == 0
			}
			if ok {
				outs, n = [2]int32{in.out}, 1
			}
		}
		for _, o := range outs[:n] {
			if mark[o] != gen {
				mark[o] = gen
				stack = append(stack, o)
			}
		}
	}
}

// compile turns the parse tree into the tables of re.
func (re *Regexp) compile(root *node) error {
	var c compiler
	match := c.add(inst{op: instMatch})
	start := c.emit(root, match)
	if c.tooBig {
		return errTooComplex
	}
	ncons := len(c.classes)
	words := (ncons + 1 + 63) / 64
	re.ncons, re.words = ncons, words
	nw := 1
	if c.hasWord {
		nw, re.wordMask = 2, 1
	}
	s := closureState{c: &c, mark: make([]uint32, len(c.insts)), stack: make([]int32, 0, len(c.insts)), tmp: make([]uint64, words)}

	re.follow = make([]uint64, nw*ncons*words)
	re.endAccept = make([]uint64, nw*words)
	for _, in := range c.insts {
		if in.op != instConsume {
			continue
		}
		i := int(in.cons)
		for w := range nw {
			ctx := uint8(w) * ctxWord
			s.closure(in.out, ctx, re.follow[(w*ncons+i)*words:][:words])
			if s.matches(in.out, ctxEnd|ctx) {
				re.endAccept[w*words+(i>>6)] |= 1 << (i & 63)
			}
		}
	}
	re.start = make([]uint64, 4*words)
	for w := range 2 {
		ctx := uint8(w) * ctxWord
		s.closure(start, ctxBegin|ctx, re.start[(startBegin+w)*words:][:words])
		s.closure(start, ctx, re.start[(startMid+w)*words:][:words])
		re.startEnd[w] = s.matches(start, ctxEnd|ctx)
	}
	re.startEmpty = s.matches(start, ctxBegin|ctxEnd)
	re.startLive = re.startEnd[0] || re.startEnd[1]
	for _, x := range re.start[startMid*words:] {
		re.startLive = re.startLive || x != 0
	}

	re.ascii = make([]uint64, 128*words)
	re.nonASCII = make([]uint64, words)
	re.ranges = make([][]rune, ncons)
	for i, cls := range c.classes {
		for b := range 128 {
			if cls.ascii[b>>6]&(1<<(b&63)) != 0 {
				re.ascii[b*words+(i>>6)] |= 1 << (i & 63)
			}
		}
		if len(cls.ranges) > 0 {
			re.nonASCII[i>>6] |= 1 << (i & 63)
			re.ranges[i] = cls.ranges
		}
	}
	return nil
}

// closureState is the scratch space for computing closures.
type closureState struct {
	c     *compiler
	mark  []uint32
	gen   uint32
	stack []int32
	tmp   []uint64
}

func (s *closureState) closure(pc int32, ctx uint8, set []uint64) {
	s.gen++
	s.c.closure(pc, ctx, set, s.mark, s.gen, s.stack)
}

// matches reports whether the match state is reachable from pc in ctx.
func (s *closureState) matches(pc int32, ctx uint8) bool {
	clear(s.tmp)
	s.closure(pc, ctx, s.tmp)
	n := len(s.c.classes)
	return s.tmp[n>>6]&(1<<(n&63)) != 0
}
