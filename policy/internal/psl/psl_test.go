package psl

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/publicsuffix"
)

// rules returns the rules of the table, in PSL syntax, and their ICANN bits.
func rules(t testing.TB) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	All(func(rule string, icann bool) bool {
		if _, dup := m[rule]; dup {
			t.Errorf("All: rule %q twice", rule)
		}
		m[rule] = icann
		return true
	})
	return m
}

// ruleDomain returns the domain of a rule: "ck" for "*.ck", "www.ck" for "!www.ck".
func ruleDomain(rule string) string {
	return strings.TrimPrefix(strings.TrimPrefix(rule, "*."), "!")
}

// goTool returns the path of the go command, or skips the test.
func goTool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	return path
}

// xnetRules returns the rules that x/net's generator lists in its
// table_test.go, with their ICANN bits as x/net's trie keeps them: the AND
// of the bits of the rules of the same domain.
func xnetRules(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command(goTool(t), "list", "-m", "-f", "{{.Dir}}", "golang.org/x/net").Output()
	if err != nil {
		t.Fatalf("go list -m golang.org/x/net: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "publicsuffix", "table_test.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("x/net's rule list: %v", err)
	}
	numICANN := -1
	var list []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, s := range g.Specs {
			v, ok := s.(*ast.ValueSpec)
			if !ok || len(v.Values) != 1 {
				continue
			}
			switch v.Names[0].Name {
			case "numICANNRules":
				numICANN, _ = strconv.Atoi(v.Values[0].(*ast.BasicLit).Value)
			case "rules":
				for _, e := range v.Values[0].(*ast.CompositeLit).Elts {
					r, _ := strconv.Unquote(e.(*ast.BasicLit).Value)
					list = append(list, r)
				}
			}
		}
	}
	if numICANN < 0 || len(list) < 1000 {
		t.Fatalf("%s: no numICANNRules or rules", path)
	}
	icann := map[string]bool{}
	for i, r := range list {
		d := ruleDomain(r)
		if _, ok := icann[d]; !ok {
			icann[d] = true
		}
		icann[d] = icann[d] && i < numICANN
	}
	m := map[string]bool{}
	for _, r := range list {
		m[r] = icann[ruleDomain(r)]
	}
	return m
}

func TestVersion(t *testing.T) {
	want := publicsuffix.List.(fmt.Stringer).String()
	if Version != want {
		t.Errorf("Version = %q, x/net's is %q", Version, want)
	}
	if ok, _ := regexp.MatchString(`^\d{4}-\d\d-\d\d [0-9a-f]{8}$`, Revision()); !ok || !strings.Contains(Version, Revision()[11:]) {
		t.Errorf("Revision() = %q, not the date and short hash of %q", Revision(), Version)
	}
}

// TestRulesAreXNets checks that the table holds exactly the rules of x/net,
// with the same ICANN bits, as listed in x/net's table_test.go.
func TestRulesAreXNets(t *testing.T) {
	got, want := rules(t), xnetRules(t)
	if Len() != len(got) {
		t.Errorf("Len() = %d, All yields %d rules", Len(), len(got))
	}
	for r, icann := range want {
		if g, ok := got[r]; !ok {
			t.Errorf("rule %q is missing", r)
		} else if g != icann {
			t.Errorf("rule %q: icann %v, x/net %v", r, g, icann)
		}
	}
	for r := range got {
		if _, ok := want[r]; !ok {
			t.Errorf("rule %q is not x/net's", r)
		}
	}
}

// check compares the answers for domain with x/net's.
func check(t *testing.T, domain string) {
	t.Helper()
	s, icann := PublicSuffix(domain)
	ws, wicann := publicsuffix.PublicSuffix(domain)
	if s != ws || icann != wicann {
		t.Errorf("PublicSuffix(%q) = %q, %v; x/net: %q, %v", domain, s, icann, ws, wicann)
	}
	r, ok := Registrable(domain)
	wr, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if r != wr || ok != (err == nil) {
		t.Errorf("Registrable(%q) = %q, %v; x/net: %q, %v", domain, r, ok, wr, err)
	}
	if got := IsPublicSuffix(domain); got != (ws == domain) {
		t.Errorf("IsPublicSuffix(%q) = %v", domain, got)
	}
}

// TestEveryRule compares, for each rule of the table (and of x/net, if the
// go command can find its list), the answers for the rule's domain, two
// domains below it and its parent with x/net's.
func TestEveryRule(t *testing.T) {
	all := rules(t)
	if _, err := exec.LookPath("go"); err == nil {
		for r := range xnetRules(t) {
			all[r] = true
		}
	}
	if len(all) < 9000 {
		t.Fatalf("only %d rules", len(all))
	}
	check(t, "")
	for r := range all {
		d := ruleDomain(r)
		check(t, d)
		check(t, "a."+d)
		check(t, "b.a."+d)
		if dot := strings.IndexByte(d, '.'); dot >= 0 {
			check(t, d[dot+1:])
		}
	}
}

// randomDomain returns a domain made of rules' labels and random ones, at
// times with an odd form: upper case, empty labels, an IP address.
func randomDomain(r *rand.Rand, domains, labels []string) string {
	word := func() string {
		switch r.IntN(10) {
		case 0, 1, 2:
			const chars = "abcdefghijklmnopqrstuvwxyz0123456789-"
			b := make([]byte, 1+r.IntN(8))
			for i := range b {
				b[i] = chars[r.IntN(len(chars))]
			}
			return string(b)
		case 3:
			return []string{"www", "city", "a", "*", "com", "co", "xn--p1ai", "1"}[r.IntN(8)]
		default:
			return labels[r.IntN(len(labels))]
		}
	}
	var d []string
	switch r.IntN(20) {
	case 0:
		return fmt.Sprintf("%d.%d.%d.%d", r.IntN(300), r.IntN(256), r.IntN(256), r.IntN(256))
	case 1:
		return []string{"::1", "fe80::1%eth0", "::ffff:10.0.0.1", "2001:db8::1.com", "1.2.3", "01.2.3.4", "[::1]"}[r.IntN(7)]
	case 2, 3, 4, 5, 6:
		for range 1 + r.IntN(4) {
			d = append(d, word())
		}
	default:
		d = strings.Split(domains[r.IntN(len(domains))], ".")
		d = d[r.IntN(len(d)):]
		for range r.IntN(4) {
			d = append([]string{word()}, d...)
		}
	}
	s := strings.Join(d, ".")
	switch r.IntN(25) {
	case 0:
		s = strings.ToUpper(s)
	case 1:
		s += "."
	case 2:
		s = "." + s
	case 3:
		s = strings.Replace(s, ".", "..", 1)
	}
	return s
}

// TestRandomDomains compares the answers for pseudo-random domains with x/net's.
func TestRandomDomains(t *testing.T) {
	var domains, labels []string
	for rule := range rules(t) {
		d := ruleDomain(rule)
		domains = append(domains, d)
		labels = append(labels, strings.Split(d, ".")...)
	}
	slices.Sort(domains)
	slices.Sort(labels)
	labels = slices.Compact(labels)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		check(t, randomDomain(r, domains, labels))
	}
}

func TestOddInputs(t *testing.T) {
	for _, d := range []string{
		"", ".", "..", "com", "com.", ".com", "a..com", "COM", "Example.COM", "example.com.",
		"www.ck", "a.www.ck", "ck", "a.ck", "b.a.ck", "kawasaki.jp", "city.kawasaki.jp", "a.city.kawasaki.jp",
		"x.kawasaki.jp", "a.x.kawasaki.jp", "unlisted", "a.unlisted", "localhost", "a.localhost",
		"1.2.3.4", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "::1", "::", "fe80::1%eth0", "fe80::1%",
		"::ffff:1.2.3.4", "1::2::3", "[::1]", "a:b.com", "s3.amazonaws.com", "a.s3.amazonaws.com",
		"github.io", "user.github.io", "a.user.github.io", "*.com", "*", "!", "xn--p1ai", "a.xn--p1ai",
	} {
		check(t, d)
	}
}

func FuzzPublicSuffix(f *testing.F) {
	for _, s := range []string{"example.com", "a.b.kawasaki.jp", "www.ck", "::1", "1.2.3.4", "a..b", "com."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := netip.ParseAddr(s)
		if got := isIP(s); got != (err == nil) {
			t.Errorf("isIP(%q) = %v; netip.ParseAddr: %v", s, got, err)
		}
		check(t, s)
	})
}

// below lists, by brute force, what Below(domain) should report.
func below(all map[string]bool, domain string) []string {
	var want []string
	for r := range all {
		switch x, wild := strings.CutPrefix(r, "*."); {
		case strings.HasPrefix(r, "!"):
		case wild && (x == domain || strings.HasSuffix(x, "."+domain)):
			want = append(want, "*."+x)
		case !wild && strings.HasSuffix(x, "."+domain):
			want = append(want, x)
		}
	}
	slices.Sort(want)
	return want
}

func TestBelow(t *testing.T) {
	all := rules(t)
	domains := []string{"amazonaws.com", "github.io", "jp", "kawasaki.jp", "example.com", "co.uk", "ck", "uk",
		"com", "", ".", "com.", ".com", "COM", "s3.amazonaws.com", "www.ck", "xn--p1ai"}
	r := rand.New(rand.NewPCG(5, 6))
	var list []string
	for rule := range all {
		list = append(list, ruleDomain(rule))
	}
	slices.Sort(list)
	for range 300 {
		d := list[r.IntN(len(list))]
		if dot := strings.IndexByte(d, '.'); dot >= 0 {
			d = d[dot+1:]
		}
		domains = append(domains, d)
	}
	for _, d := range domains {
		var got []string
		Below(d, func(suffix string, wildcard bool) bool {
			if wildcard {
				suffix = "*." + suffix
			}
			got = append(got, suffix)
			return true
		})
		slices.Sort(got)
		if want := below(all, d); !slices.Equal(got, want) {
			t.Errorf("Below(%q) = %d %q\nbrute force: %d %q", d, len(got), got, len(want), want)
		}
	}

	var amazon []string
	Below("amazonaws.com", func(s string, w bool) bool { amazon = append(amazon, s); return true })
	if !slices.Contains(amazon, "s3.amazonaws.com") || len(amazon) < 100 {
		t.Errorf("Below(amazonaws.com) = %d suffixes, without s3.amazonaws.com", len(amazon))
	}
	n := 0
	Below("jp", func(string, bool) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("Below(jp) called yield %d times after it returned false", n-3)
	}
	n = 0
	All(func(string, bool) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("All called yield %d times after it returned false", n-3)
	}
}

// TestBelowContract checks what Below is for: every host under a registrable
// domain D has D as its registrable domain unless it is at or under a normal
// rule Below(D) reports, or strictly under a wildcard one.
func TestBelowContract(t *testing.T) {
	all := rules(t)
	// The contract relies on every exception sitting under a wildcard.
	for r := range all {
		if x, ok := strings.CutPrefix(r, "!"); ok {
			if _, ok := all["*."+x[strings.IndexByte(x, '.')+1:]]; !ok {
				t.Errorf("exception %q is not under a wildcard", r)
			}
		}
	}
	var ds []string
	for r := range all {
		d := ruleDomain(r)
		ds = append(ds, "example."+d)
		if dot := strings.IndexByte(d, '.'); dot >= 0 {
			ds = append(ds, d, d[dot+1:])
		}
	}
	slices.Sort(ds)
	ds = slices.Compact(ds)
	r := rand.New(rand.NewPCG(7, 8))
	for _, d := range ds {
		if reg, ok := Registrable(d); !ok || reg != d {
			continue
		}
		type cut struct {
			suffix   string
			wildcard bool
		}
		var cuts []cut
		Below(d, func(s string, w bool) bool { cuts = append(cuts, cut{s, w}); return true })
		hosts := []string{d, "a." + d, "b.a." + d}
		for _, c := range cuts {
			hosts = append(hosts, c.suffix, "a."+c.suffix, "b.a."+c.suffix)
			if c.suffix != d {
				hosts = append(hosts, "a."+c.suffix[strings.IndexByte(c.suffix, '.')+1:])
			}
		}
		for range 3 {
			hosts = append(hosts, fmt.Sprintf("x%d.%s", r.IntN(100), hosts[r.IntN(len(hosts))]))
		}
		for _, h := range hosts {
			excluded := false
			for _, c := range cuts {
				excluded = excluded || h == c.suffix && !c.wildcard || strings.HasSuffix(h, "."+c.suffix)
			}
			if reg, _ := Registrable(h); (reg == d) == excluded {
				t.Errorf("Registrable(%q) = %q, but Below(%q) excludes it: %v", h, reg, d, excluded)
			}
		}
	}
}

// TestGenerated checks that table.go and table.bin are what internal/gen
// writes from the golang.org/x/net in go.mod.
func TestGenerated(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(goTool(t), "run", "./internal/gen", "-o", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./internal/gen: %v\n%s", err, out)
	}
	for _, name := range []string{"table.go", "table.bin"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: run go generate (make psl)", name)
		}
	}
}

var benchDomains = []string{
	"example.com", "www.example.co.uk", "a.b.c.d.example.com", "foo.s3.us-east-1.amazonaws.com",
	"user.github.io", "city.kawasaki.jp", "x.y.kawasaki.jp", "unlisted-tld", "deep.sub.domain.example.xn--p1ai",
	"shop.myshopify.com",
}

func BenchmarkPublicSuffix(b *testing.B) {
	get()
	for i := 0; b.Loop(); i++ {
		PublicSuffix(benchDomains[i%len(benchDomains)])
	}
}

func BenchmarkRegistrable(b *testing.B) {
	get()
	for i := 0; b.Loop(); i++ {
		Registrable(benchDomains[i%len(benchDomains)])
	}
}

func BenchmarkXNetPublicSuffix(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		publicsuffix.PublicSuffix(benchDomains[i%len(benchDomains)])
	}
}

func BenchmarkBelow(b *testing.B) {
	get()
	for i := 0; b.Loop(); i++ {
		Below(benchDomains[i%len(benchDomains)], func(string, bool) bool { return true })
	}
}

func BenchmarkDecode(b *testing.B) {
	for b.Loop() {
		decode(table)
	}
}
