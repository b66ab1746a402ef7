package regex

import "testing"

func TestSurrogateEscapeRefused(t *testing.T) {
	for _, expr := range []string{`^\x{D800}`, `[\x{DC00}-\x{DFFF}]`, `a\x{dfff}b`} {
		if _, err := Compile(expr); err == nil {
			t.Errorf("Compile(%q): got nil error; want a surrogate refused", expr)
		}
	}
	if _, err := Compile(`^\x{D7FF}\x{E000}$`); err != nil {
		t.Errorf("Compile of the code points around the surrogates: %v", err)
	}
}
