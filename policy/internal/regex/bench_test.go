package regex

import (
	"regexp"
	"testing"
)

func BenchmarkMatchString(b *testing.B) {
	const expr = `^https://([a-z0-9-]+\.)*example\.com(:[0-9]+)?$`
	inputs := []struct{ name, in string }{
		{"match", "https://app.example.com:8443"},
		{"nomatch", "https://app.example.org:8443"},
	}
	re, err := Compile(expr)
	if err != nil {
		b.Fatal(err)
	}
	std := regexp.MustCompile(expr)
	for _, in := range inputs {
		b.Run("type=exec/impl=regex/cfg=origin/req="+in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				re.MatchString(in.in)
			}
		})
		b.Run("type=exec/impl=stdlib/cfg=origin/req="+in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				std.MatchString(in.in)
			}
		})
	}
}
