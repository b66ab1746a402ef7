# Build and test the CORS proxy-wasm filter. `make help` lists the targets.
GO        ?= go
FUZZTIME  ?= 30s
BENCHTIME ?= 1s
BENCHCOUNT ?= 6
SOAKSECONDS ?= 300
WASMENV   := GOOS=wasip1 GOARCH=wasm
WASMFLAGS := -buildmode=c-shared -trimpath -ldflags='-s -w'
# WASMPKGS are the packages that build into cors.wasm: vetted and
# staticchecked for wasip1 too, since some of their files build only there.
WASMPKGS  := ./filter/... ./policy/... ./internal/fnv1a/ ./internal/streq/ ./internal/topk/
# STATICCHECK is run through the module proxy, so it needs nothing but Go.
# 2026.2.2 (v0.8.2) is the newest release, and it supports Go 1.26.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# THIRDPARTY are the patched copies of upstream modules (own go.mod each).
THIRDPARTY := third_party/gjson third_party/pretty
GOFILES   := $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum $(wildcard cmd/demo/page/*)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z.-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

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

# The floor: the host calls of an allowed preflight and an allowed actual
# request, without the filter's Go work (BenchmarkFloor).
build/floor-bench.wasm: $(GOFILES)
	$(WASMENV) $(GO) build $(WASMFLAGS) -tags corsbench -o $@ ./filter/floor

build/corsctl: $(GOFILES)
	$(GO) build -trimpath -o $@ ./cmd/corsctl

build/demo: $(GOFILES)
	$(GO) build -trimpath -o $@ ./cmd/demo

build/wasmoci: $(GOFILES)
	$(GO) build -trimpath -o $@ ./cmd/wasmoci

# The OCI image that Istio (WasmPlugin, TrafficExtension), Envoy Gateway and
# Higress pull: an OCI image manifest whose last layer is a tar+gzip holding
# plugin.wasm. Reproducible: the same cors.wasm gives the same digest.
.PHONY: oci
oci: build/cors.wasm build/wasmoci ## package build/cors.wasm as an OCI image in build/oci/ (no Docker) and print its manifest digest, the value to pin
	./build/wasmoci build -wasm build/cors.wasm -layout build/oci

.PHONY: oci-push
oci-push: oci ## push build/oci/ to REF=registry/repository[:tag] with your docker login credentials; prints REF@digest
	./build/wasmoci push -layout build/oci $(REF)

ifneq ($(filter oci-push,$(MAKECMDGOALS)),)
ifeq ($(REF),)
$(error usage: make oci-push REF=registry.example.com/platform/cors:TAG)
endif
endif

# The demo's ports: make run API_PORT=9080 PAGE_PORT=9081 UPSTREAM_PORT=9090.
API_PORT      ?= 8080
PAGE_PORT     ?= 8081
UPSTREAM_PORT ?= 8090

.PHONY: run
run: build build/demo ## run the demo: API (corsctl serve, cors.wasm), page and upstream on API_PORT=8080 PAGE_PORT=8081 UPSTREAM_PORT=8090; Ctrl-C stops it
	exec ./build/demo -corsctl build/corsctl -wasm build/cors.wasm -config examples/demo/cors.json \
	  -listen 127.0.0.1:$(API_PORT) -page-listen localhost:$(PAGE_PORT) -upstream-listen 127.0.0.1:$(UPSTREAM_PORT)

.PHONY: test
test: build build/cors-bench.wasm build/noop-bench.wasm check ## check, then every test: unit (race), filter, host, e2e on the real build/cors.wasm, headless Chromium, third_party
	$(GO) test -race -shuffle=on ./policy/... ./filter/...
	CORS_REQUIRE_WASM=1 CORS_REQUIRE_BENCH_WASM=1 $(GO) test -count=1 ./host/... ./e2e/... ./cmd/... ./internal/... ./examples/...
	./build/corsctl test examples/demo/cors.json examples/demo/cases.yaml
	CORS_REQUIRE_BROWSER=1 $(GO) test -count=1 ./browser/...
	@for m in $(THIRDPARTY); do echo "cd $$m && $(GO) test ./..."; (cd $$m && $(GO) test ./...) || exit 1; done
	$(MAKE) test.wasm

# The policy and the packages it shares with the plugin, tested as they run
# in cors.wasm: compiled for wasip1 and run under wazero, where some code
# differs (internal/streq compares eight bytes per load; gjson's wasip1
# number parsing).
.PHONY: test.wasm
test.wasm: ## the policy's and the shared packages' unit tests, and gjson's wasip1 test, compiled to wasm and run under wazero
	$(GO) build -o build/wazero github.com/tetratelabs/wazero/cmd/wazero
	$(WASMENV) $(GO) test -count=1 -exec "$(CURDIR)/build/wazero run -mount /:/ -env-inherit" ./policy/... ./internal/...
	cd third_party/gjson && $(WASMENV) $(GO) test -exec "$(CURDIR)/build/wazero run" -run 'wasip1' ./...

.PHONY: test.browser
test.browser: build ## run the real-browser conformance test (headless Chromium; apt-get install -y chromium)
	CORS_REQUIRE_BROWSER=1 $(GO) test -count=1 -v ./browser/...

# TRACKED is a digest of the tracked files' changes when make starts, before
# any build step runs. check compares it with their state at its end: the
# build must write only to ignored paths (build/). In CI's fresh clone this is
# a clean-tree check; on a work tree with edits, only what make itself changed
# fails it.
TRACKED := $(shell git diff HEAD --binary 2>/dev/null | git hash-object --stdin 2>/dev/null)

.PHONY: check
check: build ## gofmt, go mod tidy, go vet and staticcheck (natively and for wasip1); the build must leave tracked files alone
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	@for m in $(THIRDPARTY); do (cd $$m && $(GO) mod tidy -diff) || exit 1; done
	$(GO) vet ./...
	$(WASMENV) $(GO) vet $(WASMPKGS)
	$(GO) run $(STATICCHECK) ./...
	@# go run builds staticcheck for the host; only the analysis targets wasip1.
	$(GO) run -exec 'env $(WASMENV)' $(STATICCHECK) $(WASMPKGS)
	@if [ "$$(git diff HEAD --binary | git hash-object --stdin)" != "$(TRACKED)" ]; then \
	  echo "check: make changed tracked files (only build/ may change):"; \
	  git status --porcelain --untracked-files=no; exit 1; fi

.PHONY: lint
lint: check ## an alias of check

# FUZZPKGS are the packages whose tests declare a fuzz target.
FUZZPKGS = $(sort $(dir $(shell grep -rl --include='*_test.go' --exclude-dir=third_party --exclude-dir=build '^func Fuzz' .)))

.PHONY: fuzz
fuzz: ## run every fuzz target of every package for FUZZTIME
	@for pkg in $(FUZZPKGS); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "$(GO) test -run '^$$' -fuzz '^$$f$$' -fuzztime $(FUZZTIME) $$pkg"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

.PHONY: bench
bench: build build/cors-bench.wasm build/noop-bench.wasm build/floor-bench.wasm ## run the benchmarks (policy, and e2e on the benchmark builds), writing build/bench.txt for benchstat
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
	rm -rf build/*.wasm build/corsctl build/demo build/wasmoci build/oci build/bench.txt
