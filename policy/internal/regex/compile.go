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
}

func (c *compiler) add(in inst) (int32, error) {
	if len(c.insts) >= maxInsts {
		return 0, errTooComplex
	}
	c.insts = append(c.insts, in)
	return int32(len(c.insts) - 1), nil
}

// emit compiles n so that it continues to next, and returns its entry.
func (c *compiler) emit(n *node, next int32) (int32, error) {
	switch n.op {
	case opEmpty:
		return next, nil
	case opClass:
		if len(c.classes) >= maxStates {
			return 0, errTooComplex
		}
		c.classes = append(c.classes, n.cls)
		return c.add(inst{op: instConsume, out: next, cons: int32(len(c.classes) - 1)})
	case opBegin, opEnd, opWord, opNoWord:
		if n.op == opWord || n.op == opNoWord {
			c.hasWord = true
		}
		return c.add(inst{op: instAssert, assert: n.op, out: next})
	case opCapture:
		return c.emit(n.subs[0], next)
	case opConcat:
		var err error
		for i := len(n.subs) - 1; i >= 0 && err == nil; i-- {
			next, err = c.emit(n.subs[i], next)
		}
		return next, err
	case opAlt:
		entry, err := c.emit(n.subs[len(n.subs)-1], next)
		for i := len(n.subs) - 2; i >= 0 && err == nil; i-- {
			var e int32
			if e, err = c.emit(n.subs[i], next); err == nil {
				entry, err = c.add(inst{op: instSplit, out: e, out1: entry})
			}
		}
		return entry, err
	}
	// opRepeat.
	sub := n.subs[0]
	cur := next
	var err error
	if n.max < 0 {
		// x{min,} is min-1 copies of x followed by x+, or x* when min is 0.
		var loop int32
		if loop, err = c.add(inst{op: instSplit, out1: next}); err != nil {
			return 0, err
		}
		var e int32
		if e, err = c.emit(sub, loop); err != nil {
			return 0, err
		}
		c.insts[loop].out = e
		cur = e
		if n.min == 0 {
			cur = loop
		}
		for i := 1; i < n.min && err == nil; i++ {
			cur, err = c.emit(sub, cur)
		}
		return cur, err
	}
	// x{min,max} is min copies of x followed by max-min nested optional ones.
	for i := n.min; i < n.max && err == nil; i++ {
		var e int32
		if e, err = c.emit(sub, cur); err == nil {
			cur, err = c.add(inst{op: instSplit, out: e, out1: next})
		}
	}
	for i := 0; i < n.min && err == nil; i++ {
		cur, err = c.emit(sub, cur)
	}
	return cur, err
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
	match, _ := c.add(inst{op: instMatch})
	start, err := c.emit(root, match)
	if err != nil {
		return err
	}
	ncons := len(c.classes)
	words := (ncons + 1 + 63) / 64
	re.ncons, re.words = ncons, words
	nw := 1
	if c.hasWord {
		nw, re.wordMask = 2, 1
	}

	mark := make([]uint32, len(c.insts))
	stack := make([]int32, 0, len(c.insts))
	gen := uint32(0)
	closure := func(pc int32, ctx uint8, set []uint64) {
		gen++
		c.closure(pc, ctx, set, mark, gen, stack)
	}
	hasMatch := func(set []uint64) bool { return set[ncons>>6]&(1<<(ncons&63)) != 0 }
	wordCtx := func(w int) uint8 { return uint8(w) * ctxWord }

	re.follow = make([]uint64, nw*ncons*words)
	re.endAccept = make([]uint64, nw*words)
	tmp := make([]uint64, words)
	for pc := range c.insts {
		in := &c.insts[pc]
		if in.op != instConsume {
			continue
		}
		i := int(in.cons)
		for w := range nw {
			closure(in.out, wordCtx(w), re.follow[(w*ncons+i)*words:][:words])
			clear(tmp)
			closure(in.out, ctxEnd|wordCtx(w), tmp)
			if hasMatch(tmp) {
				re.endAccept[w*words+(i>>6)] |= 1 << (i & 63)
			}
		}
	}
	re.start = make([]uint64, 4*words)
	for w := range 2 {
		closure(start, ctxBegin|wordCtx(w), re.start[(startBegin+w)*words:][:words])
		clear(tmp)
		closure(start, ctxBegin|ctxEnd|wordCtx(w), tmp)
		re.startEmpty = re.startEmpty || w == 0 && hasMatch(tmp)
		closure(start, wordCtx(w), re.start[(startMid+w)*words:][:words])
		clear(tmp)
		closure(start, ctxEnd|wordCtx(w), tmp)
		re.startEnd[w] = hasMatch(tmp)
	}
	for _, x := range re.start[startMid*words:] {
		re.startLive = re.startLive || x != 0
	}
	re.startLive = re.startLive || re.startEnd[0] || re.startEnd[1]

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
