// Command gen writes table.go and table.bin, the compact copy of the Public
// Suffix List that package psl queries. Its source is the trie compiled into
// golang.org/x/net/publicsuffix, at the version go.mod requires: gen reads
// that package's table.go (the list's version and the bit layout of the trie)
// and the data files it embeds, walks the whole trie, and, when x/net ships
// its table_test.go, checks the walk against the rule list stored there.
//
// Run it through go generate in package psl (make psl), or with -o DIR to
// write the files elsewhere (the up-to-date test does).
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The node flags of table.bin; package psl declares the same values.
const (
	flagNormal    = 1 << iota // X is a rule
	flagException             // !X is a rule
	flagWildcard              // *.X is a rule
	flagICANN                 // x/net's ICANN bit of the node
	numFlags      = iota
)

func main() {
	out := flag.String("o", ".", "directory to write table.go and table.bin into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dir, version, err := xnet()
	if err != nil {
		return err
	}
	src := filepath.Join(dir, "publicsuffix")
	t, err := readTable(src)
	if err != nil {
		return err
	}
	root, err := t.walk()
	if err != nil {
		return err
	}
	if err := crossCheck(src, root); err != nil {
		return err
	}
	bin, st, err := encode(root)
	if err != nil {
		return err
	}
	goSrc, err := source(t.version, version, bin, st)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "table.bin"), bin, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "table.go"), goSrc, 0o644)
}

// xnet returns the directory and version of the golang.org/x/net module in
// the build list of the current module, downloading it if need be.
func xnet() (dir, version string, err error) {
	list := func() (string, string, error) {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}\n{{.Version}}", "golang.org/x/net").Output()
		if err != nil {
			return "", "", fmt.Errorf("go list -m golang.org/x/net: %w%s", err, stderr(err))
		}
		dir, version, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return dir, version, nil
	}
	if dir, version, err = list(); err != nil || dir != "" {
		return dir, version, err
	}
	if out, err := exec.Command("go", "mod", "download", "golang.org/x/net").CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go mod download golang.org/x/net: %w: %s", err, out)
	}
	if dir, version, err = list(); err == nil && dir == "" {
		err = errors.New("go list -m golang.org/x/net: no module directory")
	}
	return dir, version, err
}

func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// table is what x/net's publicsuffix/table.go declares.
type table struct {
	version string
	consts  map[string]int64
	text    []byte // the labels' text
	nodes   []byte // nodesBits/8 bytes per node, big-endian
	kids    []byte // 4 bytes per children entry, big-endian
}

// readTable parses dir/table.go: its integer and string constants, and the
// files its text, nodes and children variables embed.
func readTable(dir string) (*table, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(dir, "table.go"), nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	t := &table{consts: map[string]int64{}}
	embeds := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, s := range g.Specs {
			v, ok := s.(*ast.ValueSpec)
			if !ok {
				continue
			}
			switch g.Tok {
			case token.CONST:
				for i, name := range v.Names {
					if i >= len(v.Values) {
						continue
					}
					lit, ok := v.Values[i].(*ast.BasicLit)
					if !ok {
						continue
					}
					switch lit.Kind {
					case token.INT:
						n, err := strconv.ParseInt(lit.Value, 0, 64)
						if err != nil {
							return nil, fmt.Errorf("table.go: const %s: %w", name.Name, err)
						}
						t.consts[name.Name] = n
					case token.STRING:
						if name.Name == "version" {
							if t.version, err = strconv.Unquote(lit.Value); err != nil {
								return nil, fmt.Errorf("table.go: const version: %w", err)
							}
						}
					}
				}
			case token.VAR:
				doc := v.Doc
				if doc == nil && len(g.Specs) == 1 {
					doc = g.Doc
				}
				if doc == nil {
					continue
				}
				for _, c := range doc.List {
					if path, ok := strings.CutPrefix(c.Text, "//go:embed "); ok {
						for _, name := range v.Names {
							embeds[name.Name] = strings.TrimSpace(path)
						}
					}
				}
			}
		}
	}
	if t.version == "" {
		return nil, errors.New("table.go: no version constant")
	}
	for _, c := range []string{
		"nodesBits", "nodesBitsChildren", "nodesBitsICANN", "nodesBitsTextOffset", "nodesBitsTextLength",
		"childrenBitsWildcard", "childrenBitsNodeType", "childrenBitsHi", "childrenBitsLo",
		"nodeTypeNormal", "nodeTypeException", "nodeTypeParentOnly", "numTLD",
	} {
		if _, ok := t.consts[c]; !ok {
			return nil, fmt.Errorf("table.go: no integer constant %s", c)
		}
	}
	if nb := t.consts["nodesBits"]; nb%8 != 0 || nb > 64 ||
		t.consts["nodesBitsChildren"]+t.consts["nodesBitsICANN"]+t.consts["nodesBitsTextOffset"]+t.consts["nodesBitsTextLength"] > nb ||
		t.consts["childrenBitsWildcard"]+t.consts["childrenBitsNodeType"]+t.consts["childrenBitsHi"]+t.consts["childrenBitsLo"] > 32 {
		return nil, fmt.Errorf("table.go: unexpected bit layout %v", t.consts)
	}
	for name, dst := range map[string]*[]byte{"text": &t.text, "nodes": &t.nodes, "children": &t.kids} {
		path, ok := embeds[name]
		if !ok {
			return nil, fmt.Errorf("table.go: no //go:embed for var %s", name)
		}
		if *dst, err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(path))); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// node is a node of the trie: a domain, its last label first, whose children
// are the domains one label longer.
type node struct {
	label string
	flags uint8
	kids  []*node // by label
}

// walk decodes the trie the way x/net's list.go reads it: node i is a
// nodesBits-bit integer holding, from the least significant bit, the length
// and offset of its label in text, its ICANN bit and the index of its
// children entry; a children entry holds, from the least significant bit, the
// range [lo, hi) of the node's children, the node's type and its wildcard
// bit; the root's children are the nodes [0, numTLD).
func (t *table) walk() (*node, error) {
	c := t.consts
	field := func(x uint64, shift, bits int64) uint64 { return x >> shift & (1<<bits - 1) }
	width := c["nodesBits"] / 8
	numNodes := int64(len(t.nodes)) / width
	if int64(len(t.nodes))%width != 0 || len(t.kids)%4 != 0 {
		return nil, errors.New("x/net data: truncated nodes or children")
	}
	seen := make([]bool, numNodes)
	var kids func(lo, hi uint64, depth int) ([]*node, error)
	kids = func(lo, hi uint64, depth int) ([]*node, error) {
		if lo > hi || hi > uint64(numNodes) || depth > 127 {
			return nil, fmt.Errorf("x/net data: bad children range [%d, %d)", lo, hi)
		}
		var list []*node
		for i := lo; i < hi; i++ {
			if seen[i] {
				return nil, fmt.Errorf("x/net data: node %d reached twice", i)
			}
			seen[i] = true
			var x uint64
			for _, b := range t.nodes[int64(i)*width : int64(i+1)*width] {
				x = x<<8 | uint64(b)
			}
			shift := int64(0)
			length := field(x, shift, c["nodesBitsTextLength"])
			shift += c["nodesBitsTextLength"]
			offset := field(x, shift, c["nodesBitsTextOffset"])
			shift += c["nodesBitsTextOffset"]
			icann := field(x, shift, c["nodesBitsICANN"])
			shift += c["nodesBitsICANN"]
			ci := field(x, shift, c["nodesBitsChildren"])
			if offset+length > uint64(len(t.text)) || ci >= uint64(len(t.kids)/4) {
				return nil, fmt.Errorf("x/net data: node %d out of range", i)
			}
			y := uint64(binary.BigEndian.Uint32(t.kids[ci*4:]))
			shift = 0
			clo := field(y, shift, c["childrenBitsLo"])
			shift += c["childrenBitsLo"]
			chi := field(y, shift, c["childrenBitsHi"])
			shift += c["childrenBitsHi"]
			typ := int64(field(y, shift, c["childrenBitsNodeType"]))
			shift += c["childrenBitsNodeType"]
			wildcard := field(y, shift, c["childrenBitsWildcard"])

			n := &node{label: string(t.text[offset : offset+length])}
			switch typ {
			case c["nodeTypeNormal"]:
				n.flags |= flagNormal
			case c["nodeTypeException"]:
				n.flags |= flagException
			case c["nodeTypeParentOnly"]:
			default:
				return nil, fmt.Errorf("x/net data: node %d has type %d", i, typ)
			}
			if wildcard != 0 {
				n.flags |= flagWildcard
			}
			if icann != 0 {
				n.flags |= flagICANN
			}
			var err error
			if n.kids, err = kids(clo, chi, depth+1); err != nil {
				return nil, err
			}
			if len(list) > 0 && list[len(list)-1].label >= n.label {
				return nil, fmt.Errorf("x/net data: children out of order at %q", n.label)
			}
			list = append(list, n)
		}
		return list, nil
	}
	root := &node{}
	var err error
	if root.kids, err = kids(0, uint64(c["numTLD"]), 0); err != nil {
		return nil, err
	}
	if n := int64(slices.Index(seen, false)); n >= 0 {
		return nil, fmt.Errorf("x/net data: node %d is unreachable", n)
	}
	return root, nil
}

// rule is a rule in PSL syntax ("com", "*.ck", "!www.ck").
type rule struct {
	text  string
	icann bool
}

// rules lists the rules of the trie under n, whose domain is key.
func (n *node) rules(key string, list []rule) []rule {
	icann := n.flags&flagICANN != 0
	if n.flags&flagNormal != 0 {
		list = append(list, rule{key, icann})
	}
	if n.flags&flagException != 0 {
		list = append(list, rule{"!" + key, icann})
	}
	if n.flags&flagWildcard != 0 {
		list = append(list, rule{"*." + key, icann})
	}
	for _, c := range n.kids {
		k := c.label
		if key != "" {
			k += "." + key
		}
		list = c.rules(k, list)
	}
	return list
}

// crossCheck compares the rules of the trie with the list that x/net's
// generator wrote to table_test.go, if the module ships that file: the same
// rules, each node's ICANN bit the AND of its rules' (a node that is no rule
// has the bit set), and no empty node.
func crossCheck(dir string, root *node) error {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "table_test.go"), nil, 0)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "gen: x/net has no publicsuffix/table_test.go; rules not cross-checked")
		return nil
	}
	if err != nil {
		return err
	}
	numICANN := -1
	var want []string
	ast.Inspect(f, func(n ast.Node) bool {
		v, ok := n.(*ast.ValueSpec)
		if !ok || len(v.Names) != 1 || len(v.Values) != 1 {
			return true
		}
		switch v.Names[0].Name {
		case "numICANNRules":
			if lit, ok := v.Values[0].(*ast.BasicLit); ok {
				numICANN, _ = strconv.Atoi(lit.Value)
			}
		case "rules":
			if cl, ok := v.Values[0].(*ast.CompositeLit); ok {
				for _, e := range cl.Elts {
					if lit, ok := e.(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(lit.Value)
						want = append(want, s)
					}
				}
			}
		}
		return false
	})
	if numICANN < 0 || len(want) == 0 {
		return errors.New("x/net table_test.go: no numICANNRules or rules")
	}
	// node's ICANN bit, as x/net's generator computes it.
	icann := map[string]bool{}
	for i, r := range want {
		d := strings.TrimPrefix(strings.TrimPrefix(r, "*."), "!")
		if _, ok := icann[d]; !ok {
			icann[d] = true
		}
		icann[d] = icann[d] && i < numICANN
	}
	got := root.rules("", nil)
	gotSet := map[string]bool{}
	for _, r := range got {
		gotSet[r.text] = true
		d := strings.TrimPrefix(strings.TrimPrefix(r.text, "*."), "!")
		if icann[d] != r.icann {
			return fmt.Errorf("x/net trie: rule %q has ICANN bit %v, table_test.go says %v", r.text, r.icann, icann[d])
		}
	}
	for _, r := range want {
		if !gotSet[r] {
			return fmt.Errorf("x/net trie: rule %q of table_test.go is missing", r)
		}
	}
	wantSet := map[string]bool{}
	for _, r := range want {
		wantSet[r] = true
	}
	if len(got) != len(gotSet) || len(gotSet) != len(wantSet) {
		return fmt.Errorf("x/net trie: %d rules (%d distinct), table_test.go lists %d distinct", len(got), len(gotSet), len(wantSet))
	}
	var check func(n *node) error
	check = func(n *node) error {
		for _, c := range n.kids {
			if c.flags&(flagNormal|flagException|flagWildcard) == 0 && (len(c.kids) == 0 || c.flags&flagICANN == 0) {
				return fmt.Errorf("x/net trie: node %q: no rule, and no children or no ICANN bit", c.label)
			}
			if err := check(c); err != nil {
				return err
			}
		}
		return nil
	}
	return check(root)
}

// stats describes an encoded table.
type stats struct {
	labels, labelBytes, nodes, rules, tlds, dictBits int
}

// The alphabets of the Huffman codes of table.bin; package psl declares the
// same values.
const (
	labelChars = "-0123456789_abcdefghijklmnopqrstuvwxyz"
	maxPrefix  = 64 // label symbols: prefix lengths [0, maxPrefix), then labelChars
	numBuckets = 24 // number symbols: bit lengths [0, numBuckets)
	maxCodeLen = 15
)

// The alphabets, in the order of their code lengths in table.bin.
const (
	alphaLabel = iota // a label's shared prefix length, or one of its chars
	alphaFlags        // a node's flags<<1 | hasChildren
	alphaDelta        // the bit length of a label index delta
	alphaKids         // the bit length of a number of children
	numAlpha
)

var alphaSize = [numAlpha]int{maxPrefix + len(labelChars), 1 << (numFlags + 1), numBuckets, numBuckets}

// symbol is a Huffman-coded symbol of table.bin and the bits that follow it.
type symbol struct {
	alpha, sym int
	extra      uint64
	nextra     int
}

// encode writes the trie as table.bin (see package psl's doc.go):
//
//	header: uvarints numLabels, labelBytes, numNodes, numTLD
//	then a bit stream, most significant bit first:
//	codes:  4-bit code lengths of the symbols of each alphabet, in order:
//	        label, flags, delta, kids (canonical Huffman codes, as DEFLATE's)
//	labels: the distinct labels, sorted, each as the label symbol p < 64
//	        (it shares its first p bytes with the label before it) and
//	        the label symbols 64+c of the rest, c indexing labelChars; then
//	        the label symbol 0, which ends the last label
//	nodes:  breadth first, root first, the children of each node in label
//	        order: the flags symbol flags<<1 | hasChildren; the number
//	        id-prev, where id indexes the child's label in the labels and
//	        prev is that of its previous sibling (0 for the first); if
//	        hasChildren, the kids number of its children
//
// A number v is the symbol b = bits.Len(v), then the b-1 bits of v below
// its leading 1.
func encode(root *node) ([]byte, stats, error) {
	var st stats
	ids := map[string]int{}
	var labels []string
	var visit func(n *node) error
	visit = func(n *node) error {
		for _, c := range n.kids {
			if c.label == "" || len(c.label) >= maxPrefix || strings.Trim(c.label, labelChars) != "" {
				return fmt.Errorf("label %q: empty, too long or with a byte not in %q", c.label, labelChars)
			}
			if _, ok := ids[c.label]; !ok {
				ids[c.label] = 0
				labels = append(labels, c.label)
			}
			st.nodes++
			if err := visit(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(root); err != nil {
		return nil, st, err
	}

	var syms []symbol
	num := func(alpha int, v uint64) {
		b := bits.Len64(v)
		s := symbol{alpha: alpha, sym: b}
		if b > 1 {
			s.extra, s.nextra = v&^(1<<(b-1)), b-1
		}
		syms = append(syms, s)
	}
	slices.Sort(labels)
	prev := ""
	for i, l := range labels {
		ids[l] = i
		p := 0
		for p < len(l) && p < len(prev) && l[p] == prev[p] {
			p++
		}
		syms = append(syms, symbol{alpha: alphaLabel, sym: p})
		for _, c := range []byte(l[p:]) {
			syms = append(syms, symbol{alpha: alphaLabel, sym: maxPrefix + strings.IndexByte(labelChars, c)})
		}
		st.labelBytes += len(l)
		prev = l
	}
	syms = append(syms, symbol{alpha: alphaLabel, sym: 0})
	numDict := len(syms)

	queue := []*node{root}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		prev := 0
		for _, c := range n.kids {
			id := ids[c.label]
			if id < prev {
				return nil, st, fmt.Errorf("children of %q out of order", n.label)
			}
			f := int(c.flags) << 1
			if len(c.kids) > 0 {
				f |= 1
			}
			syms = append(syms, symbol{alpha: alphaFlags, sym: f})
			num(alphaDelta, uint64(id-prev))
			if len(c.kids) > 0 {
				num(alphaKids, uint64(len(c.kids)))
			}
			prev = id
			queue = append(queue, c)
		}
	}

	var freq [numAlpha][]int
	for a := range freq {
		freq[a] = make([]int, alphaSize[a])
	}
	for _, s := range syms {
		if s.sym >= alphaSize[s.alpha] {
			return nil, st, fmt.Errorf("symbol %d out of alphabet %d", s.sym, s.alpha)
		}
		freq[s.alpha][s.sym]++
	}
	var w bitWriter
	var codes [numAlpha][]uint32
	var lens [numAlpha][]int
	for a := range freq {
		lens[a] = codeLengths(freq[a])
		codes[a] = canonical(lens[a])
		for _, l := range lens[a] {
			w.write(uint64(l), 4)
		}
	}
	for i, s := range syms {
		if i == numDict {
			st.dictBits = w.n
		}
		w.write(uint64(codes[s.alpha][s.sym]), lens[s.alpha][s.sym])
		w.write(s.extra, s.nextra)
	}

	st.labels, st.tlds = len(labels), len(root.kids)
	st.rules = len(root.rules("", nil))
	var bin []byte
	for _, v := range []int{st.labels, st.labelBytes, st.nodes, st.tlds} {
		bin = binary.AppendUvarint(bin, uint64(v))
	}
	return append(bin, w.buf...), st, nil
}

// bitWriter writes bits, most significant first.
type bitWriter struct {
	buf []byte
	n   int // bits written
}

// write writes the n low bits of v, the most significant first.
func (w *bitWriter) write(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		w.buf[len(w.buf)-1] |= byte(v>>i&1) << (7 - w.n%8)
		w.n++
	}
}

// codeLengths returns the lengths of Huffman codes for symbols of
// frequencies freq, no longer than maxCodeLen: 0 for an unused symbol, 1
// for the only used one.
func codeLengths(freq []int) []int {
	freq = slices.Clone(freq)
	for {
		type tree struct {
			weight int
			syms   []int
		}
		var trees []tree
		for s, f := range freq {
			if f > 0 {
				trees = append(trees, tree{f, []int{s}})
			}
		}
		lens := make([]int, len(freq))
		if len(trees) == 1 {
			lens[trees[0].syms[0]] = 1
		}
		for len(trees) > 1 {
			// Merge the two lightest trees (stable: ties by position).
			slices.SortStableFunc(trees, func(a, b tree) int { return a.weight - b.weight })
			a, b := trees[0], trees[1]
			for _, s := range a.syms {
				lens[s]++
			}
			for _, s := range b.syms {
				lens[s]++
			}
			trees = append(trees[2:], tree{a.weight + b.weight, append(slices.Clone(a.syms), b.syms...)})
		}
		if slices.Max(lens) <= maxCodeLen {
			return lens
		}
		// Too deep: flatten the distribution and try again.
		for s, f := range freq {
			if f > 0 {
				freq[s] = (f + 1) / 2
			}
		}
	}
}

// canonical returns the canonical Huffman codes (as DEFLATE's) of the code
// lengths lens: shorter codes first, and codes of the same length in symbol
// order.
func canonical(lens []int) []uint32 {
	var count [maxCodeLen + 1]uint32
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [maxCodeLen + 1]uint32
	code := uint32(0)
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint32, len(lens))
	for s, l := range lens {
		if l > 0 {
			codes[s] = next[l]
			next[l]++
		}
	}
	return codes
}

var revisionRE = regexp.MustCompile(`git revision ([0-9a-f]{8})[0-9a-f]* \((\d{4}-\d\d-\d\d)`)

// source returns table.go.
func source(version, modVersion string, bin []byte, st stats) ([]byte, error) {
	revision := version
	if m := revisionRE.FindStringSubmatch(version); m != nil {
		revision = m[2] + " " + m[1]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `// Code generated by go run ./internal/gen from golang.org/x/net@%s; DO NOT EDIT.

package psl

import _ "embed"

// Version is the version of the Public Suffix List in the table, as
// golang.org/x/net/publicsuffix states it.
const Version = %q

// revision is the date and short hash of Version's git revision.
const revision = %q

// numRules is the number of rules in the table.
const numRules = %d

// table is the list: %d rules on %d nodes under %d top-level labels, with
// %d distinct labels (%d bytes, %d bytes coded); %d bytes in all.
// See doc.go for its layout.
//
//go:embed table.bin
var table string
`, modVersion, version, revision, st.rules, st.rules, st.nodes, st.tlds, st.labels, st.labelBytes, (st.dictBits+7)/8, len(bin))
	return format.Source(b.Bytes())
}
