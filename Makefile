# Build and test the CORS proxy-wasm filter. `make help` lists the targets.
GO        ?= go
FUZZTIME  ?= 30s
BENCHTIME ?= 1s
BENCHCOUNT ?= 6
SOAKSECONDS ?= 300
WASMENV   := GOOS=wasip1 GOARCH=wasm
WASMFLAGS := -buildmode=c-shared -trimpath -ldflags='-s -w'
GOFILES   := $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum $(wildcard cmd/demo/page/*)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z.]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: build
build: build/cors.wasm build/noop.wasm build/corsctl ## build the plugin, the no-op baseline plugin and corsctl

build/cors.wasm: $(GOFILES)
	$(WASMENV) $(GO) build $(WASMFLAGS) -o $@ ./filter

build/noop.wasm: $(GOFILES)
	$(WASMENV) $(GO) build $(WASMFLAGS) -o $@ ./filter/noop

# The benchmark builds: the same plugins with the test-only exports of
# filter/internal/abi/counters_corsbench.go (the guest runtime's own
# allocation count and GC metrics). The product build/cors.wasm has none.
build/cors-bench.wasm: $(GOFILES)
	$(WASMENV) $(GO) build $(WASMFLAGS) -tags corsbench -o $@ ./filter

build/noop-bench.wasm: $(GOFILES)
	$(WASMENV) $(GO) build $(WASMFLAGS) -tags corsbench -o $@ ./filter/noop

build/corsctl: $(GOFILES)
	$(GO) build -trimpath -o $@ ./cmd/corsctl

build/demo: $(GOFILES)
	$(GO) build -trimpath -o $@ ./cmd/demo

.PHONY: run
run: build build/demo ## run the demo: upstream API, corsctl serve (cors.wasm) on 127.0.0.1:8080, page on localhost:8081
	./build/demo -corsctl build/corsctl -wasm build/cors.wasm -config examples/demo/cors.json -listen 127.0.0.1:8080

.PHONY: test
test: build lint ## run every test: unit (race), filter, host, e2e on the real build/cors.wasm, headless Chromium
	$(GO) test -race -shuffle=on ./policy/... ./filter/...
	CORS_REQUIRE_WASM=1 $(GO) test -count=1 ./host/... ./e2e/... ./cmd/... ./examples/...
	CORS_REQUIRE_BROWSER=1 $(GO) test -count=1 ./browser/...

.PHONY: test.browser
test.browser: build ## run the real-browser conformance test (headless Chromium; apt-get install -y chromium)
	CORS_REQUIRE_BROWSER=1 $(GO) test -count=1 -v ./browser/...

.PHONY: lint
lint: ## gofmt and go vet, natively and for wasip1
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(WASMENV) $(GO) vet ./filter/...

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME
	@for f in $$($(GO) test -list '^Fuzz' ./policy | grep ^Fuzz); do \
	  $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./policy || exit 1; done

.PHONY: bench
bench: build build/cors-bench.wasm build/noop-bench.wasm ## run the benchmarks (policy, and e2e on the benchmark builds), writing build/bench.txt for benchstat
	{ CORS_REQUIRE_WASM=1 CORS_REQUIRE_BENCH_WASM=1 $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./policy/... ./e2e/... 2>&1; \
	  echo $$? > build/bench.rc; } | tee build/bench.txt; \
	  rc=$$(cat build/bench.rc); rm -f build/bench.rc; exit $$rc

.PHONY: soak
soak: build build/cors-bench.wasm build/noop-bench.wasm ## the long runs: 1,000,000 streams on one VM, and the Envoy 1.33-1.38 proof for SOAKSECONDS (300)
	CORS_REQUIRE_WASM=1 CORS_REQUIRE_BENCH_WASM=1 CORS_SOAK_STREAMS=1000000 CORS_PROOF_SECONDS=$(SOAKSECONDS) \
	  $(GO) test -count=1 -v -timeout 60m -run 'Test_that_memory_stays_flat|Test_that_the_guest_runtime_never_calls_poll_oneoff|Test_that_one_scheduler_entry' ./e2e/

.PHONY: psl
psl: ## refresh the Public Suffix List table (policy/internal/psl) from the newest golang.org/x/net
	$(GO) get golang.org/x/net@latest && $(GO) mod tidy && $(GO) generate ./policy/internal/psl

.PHONY: clean
clean: ## remove build outputs
	rm -rf build/*.wasm build/corsctl build/demo build/bench.txt
