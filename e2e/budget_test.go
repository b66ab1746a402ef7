package e2e

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/corsfilter/corsfilter/host"
)

// TestConfigBudget_refusesCleanly loads a configuration of thousands of
// maximum-size regexes into the real cors.wasm. Without a budget their
// automata would exhaust guest memory and trap proxy_on_configure; with it,
// the configuration is refused with a message naming the budget, quickly,
// and the guest's memory stays bounded.
func TestConfigBudget_refusesCleanly(t *testing.T) {
	for _, field := range []string{"origin", "path"} {
		t.Run(field, func(t *testing.T) {
			var b strings.Builder
			if field == "origin" {
				b.WriteString(`{"allow_credentials":true,"allowed_origin_regexes":[`)
			} else {
				b.WriteString(`{"allowed_origins":["https://app.example.com"],"rules":[{"name":"r","match":{"path_regexes":[`)
			}
			for i := range 13000 {
				if i > 0 {
					b.WriteByte(',')
				}
				// 920 rune-consuming states: near the engine's limit of 1,000.
				b.WriteString(strconv.Quote(`^https://([a-z0-9]{90}){10}\.example` + strconv.Itoa(i) + `\.com$`))
			}
			if field == "origin" {
				b.WriteString(`]}`)
			} else {
				b.WriteString(`]}}]}`)
			}
			config := b.String()

			vm := newUnconfiguredVM(t, corsPlugin)
			before := vm.MemorySize()
			if err := vm.Configure([]byte(config)); !errors.Is(err, host.ErrConfigRefused) {
				t.Fatalf("Configure of a %d KB config: got %v; want ErrConfigRefused", len(config)>>10, err)
			}
			critical := strings.Join(vm.Logs(host.LogCritical), "\n")
			if !strings.Contains(critical, "MiB of automaton tables, the budget") {
				t.Fatalf("critical logs do not name the budget:\n%.2000s", critical)
			}
			after := vm.MemorySize()
			t.Logf("config %d KB; linear memory %.1f MiB before, %.1f MiB after", len(config)>>10, float64(before)/(1<<20), float64(after)/(1<<20))
			// The budget is 8 MiB of tables; with the configuration itself,
			// its parse and the garbage of compiling, memory stays well
			// under the 64 MiB checked here.
			if after > 64<<20 {
				t.Errorf("linear memory grew to %d bytes", after)
			}
			checkHealthy(t, vm)
		})
	}
}
