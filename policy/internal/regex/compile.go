package regex

// The automaton is a Thompson NFA over runes. Matching never walks its
// epsilon transitions: Compile precomputes, for each rune-consuming state,
// the set of consuming states (and the match state) reachable after it in each
// context an empty-width assertion can observe, so a step is a few bitset ORs.

const (
	instConsume int32 = iota // one rune of a class, then out
	instSplit                // out and out1
	instAssert               // out if ctx&arg == out1
	instMatch
)

// inst is one automaton instruction. For instConsume, arg is the index of the
// consuming state; for instAssert, the context bits it tests.
type inst struct {
	op, out, out1, arg int32
}

// Contexts: what the empty-width assertions can observe at a position.
const (
	ctxBegin = 1 << iota // at the start of the text
	ctxEnd               // at the end of the text
	ctxWord              // at an ASCII word boundary
)

type compiler struct {
	p       *parser
	insts   []inst
	cons    []int32 // the class of each consuming state
	hasWord bool    // the program has \b or \B
	tooBig  bool    // a limit was exceeded

	// Scratch space for closures.
	mark  []uint32
	gen   uint32
	stack []int32
	tmp   []uint64
}

//go:noinline
func (c *compiler) add(op, out, out1, arg int32) int32 {
	if len(c.insts) >= maxInsts {
		c.tooBig = true
		return 0
	}
	c.insts = append(c.insts, inst{op, out, out1, arg})
	return int32(len(c.insts) - 1)
}

// emit compiles node n so that it continues to next, and returns its entry.
// It stops early, with c.tooBig set, when a limit is exceeded.
func (c *compiler) emit(n, next int32) int32 {
	if c.tooBig {
		return 0
	}
	nd := c.p.nodes[n]
	switch nd.op {
	case opEmpty:
		return next
	case opClass:
		if len(c.cons) >= maxStates {
			c.tooBig = true
			return 0
		}
		c.cons = append(c.cons, nd.arg)
		return c.add(instConsume, next, 0, int32(len(c.cons)-1))
	case opBegin, opEnd, opWord, opNoWord:
		// The context bit tested, and the value it must have.
		mask, want := int32(ctxBegin), int32(ctxBegin)
		switch nd.op {
		case opEnd:
			mask, want = ctxEnd, ctxEnd
		case opWord:
			mask, want = ctxWord, ctxWord
		case opNoWord:
			mask, want = ctxWord, 0
		}
		c.hasWord = c.hasWord || nd.op >= opWord
		return c.add(instAssert, next, want, mask)
	case opCapture:
		return c.emit(nd.arg, next)
	case opConcat, opAlt:
		kids := c.p.kids[nd.arg : nd.arg+nd.n]
		entry := next
		for i := len(kids) - 1; i >= 0; i-- {
			if nd.op == opConcat {
				next = c.emit(kids[i], next)
				entry = next
			} else if i == len(kids)-1 {
				entry = c.emit(kids[i], next)
			} else {
				entry = c.add(instSplit, c.emit(kids[i], next), entry, 0)
			}
		}
		return entry
	}
	// opRepeat.
	sub := nd.arg
	cur := next
	if nd.max < 0 {
		// x{min,} is min-1 copies of x followed by x+, or x* when min is 0.
		loop := c.add(instSplit, 0, next, 0)
		e := c.emit(sub, loop)
		if c.tooBig {
			return 0
		}
		c.insts[loop].out = e
		cur = e
		if nd.min == 0 {
			cur = loop
		}
		for i := int32(1); i < nd.min; i++ {
			cur = c.emit(sub, cur)
		}
		return cur
	}
	// x{min,max} is min copies of x followed by max-min nested optional ones.
	for i := nd.min; i < nd.max; i++ {
		cur = c.add(instSplit, c.emit(sub, cur), next, 0)
	}
	for range nd.min {
		cur = c.emit(sub, cur)
	}
	return cur
}

// closure adds to set the consuming states, and the match state as bit
// len(c.cons), reachable from pc through epsilon transitions in context ctx.
// It reports whether the match state is reachable.
func (c *compiler) closure(pc int32, ctx int32, set []uint64) bool {
	c.gen++
	gen := c.gen
	c.mark[pc] = gen
	stack := append(c.stack[:0], pc)
	for len(stack) > 0 {
		pc = stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		in := c.insts[pc]
		var outs [2]int32
		n := 0
		switch in.op {
		case instMatch:
			in.arg = int32(len(c.cons))
			fallthrough
		case instConsume:
			set[in.arg>>6] |= 1 << (in.arg & 63)
		case instSplit:
			outs, n = [2]int32{in.out, in.out1}, 2
		case instAssert:
			if ctx&in.arg == in.out1 {
				outs, n = [2]int32{in.out}, 1
			}
		}
		for _, o := range outs[:n] {
			if c.mark[o] != gen {
				c.mark[o] = gen
				stack = append(stack, o)
			}
		}
	}
	b := len(c.cons)
	return set[b>>6]&(1<<(b&63)) != 0
}

// matches reports whether the match state is reachable from pc in ctx.
//
//go:noinline
func (c *compiler) matches(pc int32, ctx int32) bool {
	clear(c.tmp)
	return c.closure(pc, ctx, c.tmp)
}

// compile turns the parse tree into the tables of re.
func (re *Regexp) compile(p *parser, root int32) error {
	c := compiler{p: p}
	match := c.add(instMatch, 0, 0, 0)
	start := c.emit(root, match)
	if c.tooBig {
		return errTooComplex
	}
	ncons := len(c.cons)
	words := (ncons + 1 + 63) / 64
	re.ncons, re.words = ncons, words
	nw := 1
	if c.hasWord {
		nw, re.wordMask = 2, 1
	}
	c.mark = make([]uint32, len(c.insts))
	c.stack = make([]int32, 0, len(c.insts))
	c.tmp = make([]uint64, words)

	re.follow = make([]uint64, nw*ncons*words)
	re.endAccept = make([]uint64, nw*words)
	for _, in := range c.insts {
		if in.op != instConsume {
			continue
		}
		i := int(in.arg)
		for w := range nw {
			ctx := int32(w) * ctxWord
			c.closure(in.out, ctx, re.follow[(w*ncons+i)*words:][:words])
			if c.matches(in.out, ctxEnd|ctx) {
				re.endAccept[w*words+(i>>6)] |= 1 << (i & 63)
			}
		}
	}
	re.start = make([]uint64, 4*words)
	for w := range 2 {
		ctx := int32(w) * ctxWord
		c.closure(start, ctxBegin|ctx, re.start[(startBegin+w)*words:][:words])
		c.closure(start, ctx, re.start[(startMid+w)*words:][:words])
		re.startEnd[w] = c.matches(start, ctxEnd|ctx)
	}
	re.startEmpty = c.matches(start, ctxBegin|ctxEnd)
	re.startLive = re.startEnd[0] || re.startEnd[1]
	for _, x := range re.start[startMid*words:] {
		re.startLive = re.startLive || x != 0
	}

	re.ascii = make([]uint64, 128*words)
	re.nonASCII = make([]uint64, words)
	re.runes = p.runes
	re.span = make([]int32, 2*ncons)
	for i, k := range c.cons {
		cls := &p.classes[k]
		for b := range 128 {
			if cls.ascii[b>>6]&(1<<(b&63)) != 0 {
				re.ascii[b*words+(i>>6)] |= 1 << (i & 63)
			}
		}
		if cls.hi > cls.lo {
			re.nonASCII[i>>6] |= 1 << (i & 63)
			re.span[2*i], re.span[2*i+1] = cls.lo, cls.hi
		}
	}
	return nil
}
