package regex

import (
	"regexp"
	"strings"
	"testing"
)

// matchTests are expressions in the supported subset, with inputs; each is
// checked against package regexp.
var matchTests = []struct {
	desc   string
	expr   string
	inputs []string
}{
	{"origin with optional subdomains and port", `^https://([a-z0-9-]+\.)*example\.com(:[0-9]+)?$`,
		[]string{"https://example.com", "https://app.example.com:8443", "https://a.b.example.com", "https://example.com.evil.com", "http://example.com", "https://.example.com", "https://example.com:", "https://examplexcom"}},
	{"path with id", `^/v[0-9]+/orders/[^/]+$`, []string{"/v1/orders/42", "/v12/orders/a-b", "/v1/orders/", "/v1/orders/4/2", "/vx/orders/1", "/v1/orders/é"}},
	{"case-insensitive origin", `^(?i)https://app\.example\.com$`, []string{"https://app.example.com", "HTTPS://APP.EXAMPLE.COM", "https://app.example.com.", "https://app\u212aexample.com"}},
	{"unanchored literal", `example`, []string{"", "example", "an example here", "exampl", "EXAMPLE"}},
	{"only start anchored", `^https://`, []string{"https://x", "xhttps://", "https:/"}},
	{"only end anchored", `\.com$`, []string{"a.com", "a.com\n", "a.comx", ".com"}},
	{"empty expression", ``, []string{"", "a"}},
	{"empty alternatives", `a|`, []string{"", "b", "a"}},
	{"empty alternative first", `|a`, []string{"", "b"}},
	{"empty group", `^()$`, []string{"", "a"}},
	{"empty non-capturing group", `^(?:)$`, []string{"", "a"}},
	{"dot excludes newline", `^.$`, []string{"a", "\n", "é", "\xff", "ab", ""}},
	{"dot with s flag", `^(?s).$`, []string{"a", "\n", "é"}},
	{"dot with s flag group", `^(?s:.)(?-s:.)$`, []string{"\n\n", "\na", "a\n"}},
	{"invalid UTF-8 input", `^a.b$`, []string{"a\xffb", "a\xe2\x82b", "a\xe2\x82\xacb"}},
	{"replacement char literal", `^\x{FFFD}+$`, []string{"\xff", "\xff\xfe", "\uFFFD", "a"}},
	{"escaped punctuation", `^\.\\\/\-\*\+\?\(\)\[\]\{\}\|\^\$\ \_\#\&\~$`, []string{`.\/-*+?()[]{}|^$ _#&~`, "x"}},
	{"control escapes", `^\t\n\r\f\v\a$`, []string{"\t\n\r\f\v\a", "t"}},
	{"hex escapes", `^\x41\x{42}\x{1F600}\x{0}$`, []string{"AB\U0001F600\x00", "AB"}},
	{"octal escapes", `^\0\07\101\08$`, []string{"\x00\x07A\x008", "\x00"}},
	{"perl classes", `^\d\D\s\S\w\W$`, []string{"1a a_!", "1a\va_!", "1a\ta_\n", "a1 a_!", "1é a_é"}},
	{"perl classes in class", `^[\d\s]+$`, []string{"1 2\t3", "1\v2", "a"}},
	{"negated perl class in class", `^[\D]$`, []string{"a", "1", "\n"}},
	{"class ranges", `^[a-cx-z0-2]+$`, []string{"abc", "xyz012", "d", "3", ""}},
	{"negated class matches newline", `^[^a]$`, []string{"\n", "a", "b", "é"}},
	{"class with ] first", `^[]a]+$`, []string{"]a", "b"}},
	{"negated class with ] first", `^[^]a]$`, []string{"]", "b"}},
	{"class with - at ends", `^[-a-]+$`, []string{"-a-", "b"}},
	{"class with - after range", `^[a-c-e]+$`, []string{"b-e", "d"}},
	{"class with escapes", `^[\]\[\\\-\^]+$`, []string{`][\-^`, "a"}},
	{"class with [ literal", `^[[a]+$`, []string{"[a", "b"}},
	{"class with [: not a class", `^[[:]+$`, []string{"[:", "a"}},
	{"class with non-ASCII range", `^[à-ÿ]+$`, []string{"é", "e", "\xff"}},
	{"class with hex range", `^[\x{100}-\x{10FFFF}]$`, []string{"Ā", "\U0010FFFF", "a", "\xff"}},
	{"posix classes", `^[[:alnum:]][[:alpha:]][[:ascii:]][[:blank:]][[:cntrl:]][[:digit:]][[:graph:]][[:lower:]][[:print:]][[:punct:]][[:space:]][[:upper:]][[:word:]][[:xdigit:]]$`,
		[]string{"aaa \x001!a !\vA_f", "aaa \x001!a !\vA_g", "aaé \x001!a !\vA_f"}},
	{"negated posix class", `^[[:^alpha:]]+$`, []string{"123", "a", "\n", "é"}},
	{"posix and range mixed", `^[[:digit:]a-f]+$`, []string{"09af", "g"}},
	{"alternation", `^(foo|bar|)$`, []string{"foo", "bar", "", "baz"}},
	{"nested alternation", `^a(b|c(d|e))f$`, []string{"abf", "acdf", "acef", "acf"}},
	{"star", `^ab*c$`, []string{"ac", "abc", "abbbc", "abd"}},
	{"plus", `^ab+c$`, []string{"ac", "abc", "abbbc"}},
	{"quest", `^ab?c$`, []string{"ac", "abc", "abbc"}},
	{"lazy forms", `^a*?b+?c??d{1,2}?$`, []string{"bd", "aabbcdd", "abcddd"}},
	{"counted", `^a{2}b{2,}c{1,3}$`, []string{"aabbc", "abbc", "aabbbbbccc", "aabbcccc"}},
	{"counted zero", `^a{0}b{0,0}c$`, []string{"c", "ac"}},
	{"counted group", `^(ab){2,3}$`, []string{"abab", "ababab", "ab", "abababab"}},
	{"counted 1000", `^a{1000}$`, []string{strings.Repeat("a", 1000), strings.Repeat("a", 999)}},
	{"nested counts at the limit", `^((a{10}){10}){10}$`, []string{strings.Repeat("a", 1000), strings.Repeat("a", 990)}},
	{"brace literal", `^a{,2}b{x}c{$`, []string{"a{,2}b{x}c{", "aa"}},
	{"brace literal leading zero", `^a{01}$`, []string{"a{01}", "a"}},
	{"star of group", `^(a|bc)*$`, []string{"", "abca", "abcb"}},
	{"nested stars", `^(a*)*b$`, []string{"b", "aaab", "aaa"}},
	{"star of empty", `^(?:)*a$`, []string{"a"}},
	{"star of anchor", `^*a$*`, []string{"a", "ba"}},
	{"begin text escapes", `\Aa\z`, []string{"a", "ab", "\na"}},
	{"dollar is end of text", `a$`, []string{"a", "a\n", "ba"}},
	{"caret in the middle", `a^b`, []string{"ab", "a^b"}},
	{"dollar in the middle", `a$b`, []string{"ab"}},
	{"anchors in alternation", `^a|b$`, []string{"ax", "xb", "xa", "bx"}},
	{"word boundary", `\bfoo\b`, []string{"foo", "a foo b", "afoo", "foob", "foo_", "é foo é"}},
	{"not word boundary", `\Boo\B`, []string{"foo", "fooo", "oo"}},
	{"word boundary only", `\b`, []string{"", " ", "a"}},
	{"not word boundary only", `^\B$`, []string{"", "a"}},
	{"named groups", `^(?P<scheme>https?)://(?<host>[a-z.]+)$`, []string{"https://a.b", "ftp://a"}},
	{"non-capturing group with flags", `^(?i:ab)c$`, []string{"ABc", "ABC"}},
	{"flags until group end", `^(a(?i)b)c$`, []string{"aBc", "aBC", "Abc"}},
	{"flags span alternation", `^(?:a(?i)b|c)$`, []string{"C", "aB"}},
	{"flags negated", `(?i)a(?-i)b`, []string{"Ab", "AB"}},
	{"empty flags", `^(?)a$`, []string{"a"}},
	{"fold with kelvin and long s", `^(?i)ks$`, []string{"KS", "\u212a\u017f", "ks"}},
	{"fold class", `^(?i)[a-k]$`, []string{"K", "\u212a", "L"}},
	{"fold negated class", `^(?i)[^k]$`, []string{"K", "\u212a", "j"}},
	{"fold perl class", `^(?i)\w\W$`, []string{"\u212a!", "a\u017f", "a!"}},
	{"fold posix class", `^(?i)[[:upper:]][[:^lower:]]$`, []string{"aB", "a\u212a", "a1"}},
	{"fold non-letters", `^(?i)[0-9_@\[]$`, []string{"`", "{", "@"}},
	{"fold with emoji", `^(?i)\x{1F600}$`, []string{"\U0001F600"}},
	{"fold with full range", `^(?i)[\x00-\x{10FFFF}]$`, []string{"é"}},
	{"quoted", `^\Qa.b*\E+$`, []string{"a.b*", "a.b**", "aab"}},
	{"quoted to end", `^\Qa.b`, []string{"a.b", "axb"}},
	{"quoted empty", `^a\Q\Eb$`, []string{"ab"}},
	{"literal UTF-8", `^café$`, []string{"café", "cafe"}},
	{"pathological for backtracking", `^(a|a)*b$`, []string{strings.Repeat("a", 5000), strings.Repeat("a", 5000) + "b"}},
	{"many states", `^` + strings.Repeat("[a-z]", 200) + `$`, []string{strings.Repeat("q", 200), strings.Repeat("q", 199), strings.Repeat("q", 199) + "é"}},
	{"many states with boundaries", `\b` + strings.Repeat("a?", 150) + strings.Repeat("a", 150) + `\b`, []string{strings.Repeat("a", 150), " " + strings.Repeat("a", 301) + " ", strings.Repeat("a", 149)}},
	{"many states unanchored", strings.Repeat("(x|y)", 300) + "z", []string{strings.Repeat("xy", 200) + "z", strings.Repeat("xy", 149) + "z"}},
}

func TestMatchAgainstStdlib(t *testing.T) {
	for _, tc := range matchTests {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := Compile(tc.expr); err != nil {
				t.Fatalf("Compile(%q): %v", tc.expr, err)
			}
			checkAgainstStd(t, tc.expr, tc.inputs...)
		})
	}
}

// TestASCIIClassesExhaustive compares every class escape and POSIX class,
// plain and folded, plain and negated, on every rune below 0x180 and the two
// runes that fold to ASCII.
func TestASCIIClassesExhaustive(t *testing.T) {
	var classes []string
	for _, n := range []string{"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word", "xdigit"} {
		classes = append(classes, "[[:"+n+":]]", "[[:^"+n+":]]", "[^[:"+n+":]]")
	}
	classes = append(classes, `\d`, `\D`, `\s`, `\S`, `\w`, `\W`, `[^\d]`, `.`, `[^a-z]`, `[A-z]`)
	var inputs []string
	for r := range rune(0x180) {
		inputs = append(inputs, string(r))
	}
	inputs = append(inputs, "\u212a", "\xff")
	for _, c := range classes {
		for _, expr := range []string{"^" + c + "$", "^(?i)" + c + "$", "^(?s)" + c + "$"} {
			if _, err := Compile(expr); err != nil {
				t.Fatalf("Compile(%q): %v", expr, err)
			}
			checkAgainstStd(t, expr, inputs...)
		}
	}
}

var errorTests = []struct {
	desc string
	expr string
	want string // substring of the error
}{
	{"missing paren", `^(a$`, "missing closing )"},
	{"missing paren in named group", `(?P<n>a`, "missing closing )"},
	{"unexpected paren", `a)`, "unexpected )"},
	{"missing bracket", `[a-z`, "missing closing ]"},
	{"missing bracket after ]", `[]`, "missing closing ]"},
	{"missing bracket after escape", `[\]`, "missing closing ]"},
	{"reversed range", `[z-a]`, "invalid character class range"},
	{"unknown posix class", `[[:foo:]]`, "invalid character class range"},
	{"posix class search runs past ]", `[[:a]b:]`, "invalid character class range"},
	{"perl class as range end", `[a-\d]`, "invalid escape sequence"},
	{"backspace escape in class", `[\b]`, "invalid escape sequence"},
	{"trailing backslash", `a\`, "trailing backslash"},
	{"unknown escape", `\q`, "invalid escape sequence"},
	{"upper Z escape", `a\Z`, "invalid escape sequence"},
	{"backreference", `(a)\1`, "invalid escape sequence"},
	{"digit 8 escape", `\8`, "invalid escape sequence"},
	{"non-ASCII escape", `\é`, "invalid escape sequence"},
	{"bad hex", `\xZ1`, "invalid escape sequence"},
	{"short hex", `\x4`, "invalid escape sequence"},
	{"empty hex braces", `\x{}`, "invalid escape sequence"},
	{"unclosed hex braces", `\x{41`, "invalid escape sequence"},
	{"hex above max rune", `\x{110000}`, "invalid escape sequence"},
	{"nested repetition", `a**`, "invalid nested repetition operator"},
	{"nested repetition lazy", `a*??`, "invalid nested repetition operator"},
	{"nested counted repetition", `a{2}{3}`, "invalid nested repetition operator"},
	{"counted then star", `a{2}*`, "invalid nested repetition operator"},
	{"missing argument", `*a`, "missing argument to repetition operator"},
	{"missing argument after bar", `a|+`, "missing argument to repetition operator"},
	{"missing argument after paren", `(?)*`, "missing argument to repetition operator"},
	{"missing argument for count", `{2}`, "missing argument to repetition operator"},
	{"missing argument after empty quote", `\Q\E*`, "missing argument to repetition operator"},
	{"count above 1000", `a{1001}`, "repetition count above 1000"},
	{"max above 1000", `a{1,1001}`, "repetition count above 1000"},
	{"huge count", `a{100000000000}`, "repetition count above 1000"},
	{"nested counts above 1000", `(a{100}){11}`, "repetition count above 1000"},
	{"nested counts through star", `((a{100})*){11}`, "repetition count above 1000"},
	{"min above max", `a{3,2}`, "invalid repeat count"},
	{"lookahead", `a(?=b)`, "invalid or unsupported Perl syntax"},
	{"comment group", `(?#x)`, "invalid or unsupported Perl syntax"},
	{"unknown flag", `(?x)a`, "invalid or unsupported Perl syntax"},
	{"flags without end", `(?i`, "invalid or unsupported Perl syntax"},
	{"negation without flag", `(?i-)a`, "invalid or unsupported Perl syntax"},
	{"double negation", `(?-i-s)a`, "invalid or unsupported Perl syntax"},
	{"named backreference", `(?P=n)`, "invalid or unsupported Perl syntax"},
	{"empty capture name", `(?P<>a)`, "invalid named capture"},
	{"bad capture name", `(?<a-b>x)`, "invalid named capture"},
	{"unterminated capture name", `(?P<name`, "invalid named capture"},
	{"invalid UTF-8", "a\xffb", "invalid UTF-8"},
	{"invalid UTF-8 in class", "[\xff]", "invalid UTF-8"},
	{"multi-line flag", `(?m)^a$`, "unsupported: (?m)"},
	{"ungreedy flag", `(?U)a*`, "unsupported: (?U)"},
	{"unicode class", `\pL`, `unsupported: \p{...}`},
	{"unicode class braces", `\p{Greek}`, `unsupported: \p{...}`},
	{"negated unicode class in class", `[\P{L}]`, `unsupported: \p{...}`},
	{"any byte", `\C`, `unsupported: \C`},
	{"fold non-ASCII literal", `(?i)é`, "unsupported: (?i) with non-ASCII"},
	{"fold non-ASCII class", `(?i)[à-ÿ]`, "unsupported: (?i) with non-ASCII"},
	{"fold non-ASCII escape", `(?i)\x{212A}`, "unsupported: (?i) with non-ASCII"},
	{"fold non-ASCII quoted", `(?i)\Qé\E`, "unsupported: (?i) with non-ASCII"},
	{"too many states", strings.Repeat("[a-z]{1000}", 2), "too complex"},
	{"too deep", strings.Repeat("(", 101) + strings.Repeat(")", 101), "too complex"},
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range errorTests {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := Compile(tc.expr)
			if err == nil {
				t.Fatalf("Compile(%q) succeeded, want an error containing %q", tc.expr, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compile(%q) = %q, want it to contain %q", tc.expr, err, tc.want)
			}
			if msg := err.Error(); strings.ToLower(msg[:1]) != msg[:1] {
				t.Fatalf("Compile(%q) error %q does not start in lower case", tc.expr, msg)
			}
			// Everything regexp refuses is refused; the rest are the subset's limits.
			if _, stdErr := regexp.Compile(tc.expr); stdErr == nil && !strings.HasPrefix(tc.want, "unsupported") && tc.want != "too complex" {
				t.Fatalf("regexp accepts %q, so the error %q should say unsupported or too complex", tc.expr, err)
			}
		})
	}
}

func TestAnchored(t *testing.T) {
	tests := []struct {
		desc string
		expr string
		want bool
	}{
		{"both ends", `^a$`, true},
		{"empty anchored", `^$`, true},
		{"alternation inside group", `^(a|b)$`, true},
		{"alternation inside non-capturing group", `^(?:a|b)$`, true},
		{"top-level alternation", `^a|b$`, false},
		{"alternation of anchored", `^a$|^b$`, false},
		{"capture around all", `(^a$)`, true},
		{"nested captures around all", `((^a$))`, true},
		{"non-capturing group around all", `(?:^a$)`, true},
		{"groups split the anchors", `(?:^a)(?:b$)`, true},
		{"text escapes", `\Aa\z`, true},
		{"flags after caret", `^(?i)a$`, true},
		{"flags before caret", `(?i)^a$`, true},
		{"only start", `^a`, false},
		{"only end", `a$`, false},
		{"neither", `a`, false},
		{"caret alone", `^`, false},
		{"empty", ``, false},
		{"empty group before caret", `(?:)^a$`, false},
		{"empty group between", `^(?:)$`, true},
		{"repeated end", `^a$*`, false},
		{"reversed", `$a^`, false},
		{"repeated anchored group", `(?:^a$)+`, false},
		{"origin", `^https://([a-z0-9-]+\.)*example\.com(:[0-9]+)?$`, true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			re, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.expr, err)
			}
			if got := re.Anchored(); got != tc.want {
				t.Fatalf("Compile(%q).Anchored() = %v, want %v", tc.expr, got, tc.want)
			}
			if got := stdAnchored(tc.expr); got != tc.want {
				t.Fatalf("regexp/syntax says %q anchored = %v, want %v", tc.expr, got, tc.want)
			}
		})
	}
}

func TestMatchStringDoesNotAllocate(t *testing.T) {
	for _, expr := range []string{
		`^https://([a-z0-9-]+\.)*example\.com(:[0-9]+)?$`,
		`^/v[0-9]+/orders/[^/]+$`,
		strings.Repeat("[a-z]", 200), // four words per state set
	} {
		re, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		in := "https://app.example.com:8443/v1/orders/42" + strings.Repeat("é", 10)
		if n := testing.AllocsPerRun(100, func() { re.MatchString(in) }); n != 0 {
			t.Fatalf("MatchString on %q allocates %v times, want 0", expr, n)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	re, err := Compile(`^https://([a-z0-9-]+\.)*example\.com(:[0-9]+)?$`)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	for i := range 8 {
		go func() {
			ok := true
			for range 1000 {
				ok = ok && re.MatchString("https://a.example.com:"+string(rune('0'+i))) && !re.MatchString("https://example.org")
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Fatal("a concurrent MatchString gave a wrong result")
		}
	}
}
