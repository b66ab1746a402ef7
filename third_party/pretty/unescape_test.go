package pretty

import (
	"encoding/json"
	"testing"
)

// TestUnescapeMatchesEncodingJSON checks the stand-in against the decoder
// it replaces.
func TestUnescapeMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`"plain"`, `"a\"b"`, `"back\\slash"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u20AC"`,
		`"\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`, `"\ud83dx"`, `"mixed \u0041\n\"end"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", in, err)
		}
		if got := string(unescape([]byte(in))); got != want {
			t.Errorf("unescape(%s) = %q; want %q", in, got, want)
		}
	}
}
