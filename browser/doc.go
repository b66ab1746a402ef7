// Package browser holds the real-browser conformance test: headless Chromium,
// driven with chromedp, runs fetch() from pages on other origins against
// `corsctl serve` running the real build/cors.wasm, and the test asserts what
// the page can read, which is the only verdict that matters for CORS.
//
// TestDemoPage drives make run's demo page the same way: it clicks every
// call and checks the result and the reason shown beside each blocked one
// (CORS_DEMO_SCREENSHOT=file.png saves a screenshot).
//
// Run it with `make build && go test -count=1 ./browser/`. It needs a Chromium
// binary (`apt-get install -y chromium` on Debian; CORS_CHROMIUM names another
// one) and skips without it, unless CORS_REQUIRE_BROWSER=1 is set, as `make
// test` does, in which case it fails.
package browser
