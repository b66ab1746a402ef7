// Package psl is the whole Public Suffix List (https://publicsuffix.org/),
// with the answers of golang.org/x/net/publicsuffix but without linking that
// package, which pulls net/http into the plugin.
//
// # Data
//
// The list comes from the trie compiled into x/net/publicsuffix, at the
// version of golang.org/x/net that go.mod requires: internal/gen reads that
// package's table.go (the list's Version and the bit layout of the trie) and
// the data files it embeds, walks the whole trie, checks it against the rule
// list x/net ships in its table_test.go, and writes table.go and table.bin.
// Tests compare every rule, and thousands of other domains, with x/net, and
// check that the generated files are up to date. To move to a newer list,
// run
//
//	make psl
//
// which upgrades golang.org/x/net, tidies go.mod and reruns go generate here.
// Only the generator and the tests import x/net.
//
// # Representation
//
// The table keeps x/net's trie: a node per domain that is a rule or the
// parent of one, with x/net's flags (rules X, !X and *.X, the ICANN bit), and
// the children of a node in label order. table.bin (34 KB for 10,533 nodes)
// is a header of uvarints (numLabels, labelBytes, numNodes, numTLD), then a
// bit stream, most significant bit first, coded with four canonical Huffman
// codes (as DEFLATE's, and read as zlib's puff does):
//
//	codes:  the 4-bit code lengths of the symbols of each alphabet: label
//	        (102 symbols), flags (32), delta (24), kids (24)
//	labels: the 6,730 distinct labels, sorted and front-coded: each is the
//	        label symbol p < 64 (it shares its first p bytes with the label
//	        before it), then a label symbol 64+c for each following byte,
//	        c indexing "-0123456789_a…z"; a final symbol 0 ends the last
//	nodes:  breadth first, the root first, and the children of each node in
//	        label order: the flags symbol flags<<1|hasChildren; the delta
//	        number id-prev, where id indexes the child's label among the
//	        labels and prev that of its previous sibling (0 for the first);
//	        if hasChildren, the kids number of its children
//
// A number v is coded as the symbol b = bits.Len(v), then the b-1 bits of v
// below its leading 1. Siblings come in label order and so do the labels, so
// label references are deltas. The labels take 20 KB (49 KB as text), the
// nodes 13 KB; as byte-aligned varints they took 54 KB in all, and x/net's
// own tables take 88 KB. All told the package adds about 80 KB to a wasm
// binary (about 67 KB to the plugin, which already links strings and sync).
//
// The first query decodes the table, once (sync.Once; about 3 ms in wasm,
// 1 ms natively), into the labels' text and an array of nodes, breadth first,
// in which the children of a node are contiguous, as in x/net; it stays in
// memory (about 180 KB). A query walks the trie from the last label with a
// binary search among siblings, as x/net does: under a microsecond in wasm,
// without allocating. Queries are meant for configuration loading, not for
// requests.
package psl
