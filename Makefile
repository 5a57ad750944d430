# efm-harness — see README.md. `make run` starts the stack, `make test` runs every test.
GO        ?= go
BIN       := bin/efm-harness
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test bdd fuzz lint bench clean

all: lint test

## build: the static binary (CGO off, so it also runs in a FROM scratch image)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/efm-harness

## run: start every simulated service on the default ports (Ctrl-C stops)
run: build
	./$(BIN) up $(ARGS)

## test: vet, then every unit, fuzz-seed and feature test with the race detector
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

## bdd: only the Gherkin features, verbose (reports under reports/)
bdd:
	$(GO) test -count=1 -v ./features/...

## fuzz: a short run of every fuzz target (FUZZTIME=30s by default)
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || { \
	      echo "== $$f again: a short run can end in 'context deadline exceeded'; a crasher is in testdata and fails again"; \
	      $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; }; \
	  done; done

## bench: the README's benchmark table (reports/bench.md, HTML reports beside it). About 25 minutes with
## the defaults (60 s per rate, a 10-minute steady run); BENCH_FLAGS='--duration 10s --steady 1m' is quick.
BENCH_FLAGS ?=
bench: build
	@command -v wrk >/dev/null || { echo "installing wrk for the endpoint rows"; (apt-get install -y wrk || sudo apt-get install -y wrk) >/dev/null 2>&1 || echo "wrk could not be installed; its rows say so"; }
	./$(BIN) bench $(BENCH_FLAGS)

## lint: gofmt, go vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin reports keystores
